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

package testutil

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// KeepDocCurrent checks that the Markdown file at path holds each of
// sections (name to body) between a "<!-- BEGIN GENERATED: name -->" line and
// a "<!-- END GENERATED: name -->" line. With UPDATE_DOCS set it rewrites the
// sections instead; otherwise it fails the test, telling the reader to run
// rerun. A section missing from the file fails the test either way, so that
// new generated content gets a place chosen by a person.
func KeepDocCurrent(t *testing.T, path string, sections map[string]string, rerun string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := string(doc)
	for name, body := range sections {
		if want, err = replaceSection(want, name, body); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if want == string(doc) {
		return
	}
	if os.Getenv("UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s is out of date: run UPDATE_DOCS=1 %s", path, rerun)
}

func replaceSection(doc, name, body string) (string, error) {
	begin, end := "<!-- BEGIN GENERATED: "+name+" -->\n", "<!-- END GENERATED: "+name+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("no section %q", name)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}
