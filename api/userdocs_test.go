/*
Copyright 2026 The directus-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package api_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	// testName is a Go test's name; one in a `-run` flag (how to
	// regenerate a page) is allowed.
	testName = regexp.MustCompile(`(-run )?\bTest[A-Z][A-Za-z]+`)
	// issueNumber is "#12" on its own; "owner/repo#12" links upstream.
	issueNumber = regexp.MustCompile(`(^|[\s(])#[0-9]+\b`)
	// hexWord may be a commit hash when it has both digits and letters.
	hexWord = regexp.MustCompile(`\b[0-9a-f]{7,40}\b`)
)

// TestTheUserDocsSpeakToUsers: the README is a front door (short, with the
// install section near the top), and no page for users cites test names,
// commit hashes, issue numbers or folders outside the repository.
func TestTheUserDocsSpeakToUsers(t *testing.T) {
	readme := readDoc(t, "../README.md")
	lines := strings.Split(readme, "\n")
	if len(lines) > 170 {
		t.Errorf("README.md has %d lines: keep the front door near 150, move detail into docs/", len(lines))
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "## Install") {
			if i > len(lines)/3 {
				t.Errorf("README.md's install section starts at line %d of %d: keep it in the first third", i+1, len(lines))
			}
			break
		}
		if i == len(lines)-1 {
			t.Error("README.md has no ## Install section")
		}
	}

	pages, _ := filepath.Glob("../docs/*.md")
	guides, _ := filepath.Glob("../docs/guides/*.md")
	for _, page := range append(append([]string{"../README.md", "../charts/directus-operator/README.md"}, pages...), guides...) {
		doc := readDoc(t, page)
		for n, line := range strings.Split(doc, "\n") {
			where := page + ":" + strconv.Itoa(n+1)
			for _, m := range testName.FindAllString(line, -1) {
				if !strings.HasPrefix(m, "-run ") {
					t.Errorf("%s names a test (%s): say what is tested, if anything", where, m)
				}
			}
			if m := issueNumber.FindString(line); m != "" {
				t.Errorf("%s cites an issue (%s): that belongs in commit messages", where, strings.TrimSpace(m))
			}
			for _, w := range hexWord.FindAllString(line, -1) {
				if strings.ContainsAny(w, "0123456789") && strings.ContainsAny(w, "abcdef") && !strings.Contains(line, "sha256:"+w) {
					t.Errorf("%s has what looks like a commit hash (%s): figures name the machine and the date", where, w)
				}
			}
			if strings.Contains(line, "../shared") {
				t.Errorf("%s points outside the repository", where)
			}
		}
	}
}

func readDoc(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
