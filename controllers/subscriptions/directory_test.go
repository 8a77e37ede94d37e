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

package subscriptions

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/controllers/mirror"
)

var fixedNow = time.Date(2026, 11, 27, 10, 0, 0, 123, time.UTC)

func render(t *testing.T, items map[string]string) mirror.Rendered {
	t.Helper()
	m := mirror.New(mirror.PerItem, "")
	raw := make(map[string]json.RawMessage, len(items))
	for k, v := range items {
		raw[k] = json.RawMessage(v)
	}
	m.Replace(raw)
	r, err := m.Render()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
	}
	return out
}

func TestDirectoryStoreWritesOneFilePerItemAndTheIndexLast(t *testing.T) {
	g := NewWithT(t)
	dir := filepath.Join(t.TempDir(), "data") // created by Apply
	r := render(t, map[string]string{
		"10": `{"id":10,"text":"ten"}`, "2": `{"id":2,"text":"two"}`, "a.b": `{"id":"a.b"}`,
	})
	var atIndexTime map[string]string
	s := &DirectoryStore{Dir: dir, Now: func() time.Time {
		atIndexTime = files(t, dir)
		return fixedNow
	}}

	result, err := s.Apply(context.Background(), r)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal("success"))

	want := map[string]string{"2.json": `{"id":2,"text":"two"}`, "10.json": `{"id":10,"text":"ten"}`, "a_2Eb.json": `{"id":"a.b"}`}
	g.Expect(atIndexTime).To(Equal(want), "every data file is in place before index.json is written")
	got := files(t, dir)
	g.Expect(got).To(HaveKey(IndexFile))
	g.Expect(got[IndexFile]).To(MatchJSON(`{"hash":"` + r.Hash + `","items":3,"keys":["2.json","10.json","a_2Eb.json"],"updated":"2026-11-27T10:00:00.000000123Z"}`))
	delete(got, IndexFile)
	g.Expect(got).To(Equal(want))

	fi, err := os.Stat(filepath.Join(dir, "2.json"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o644)), "another container's user can read it")
}

func TestDirectoryStoreReplacesFilesAtomically(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	s := &DirectoryStore{Dir: dir}
	_, err := s.Apply(context.Background(), render(t, map[string]string{"1": `{"id":1,"v":"old"}`, "2": `{"id":2}`}))
	g.Expect(err).NotTo(HaveOccurred())
	unchangedBefore, err := os.Stat(filepath.Join(dir, "2.json"))
	g.Expect(err).NotTo(HaveOccurred())

	// A reader that opened the file before the update keeps reading the
	// complete old version: the new one comes in by rename, never by
	// rewriting the file in place.
	reader, err := os.Open(filepath.Join(dir, "1.json"))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = reader.Close() }()
	g.Expect(os.WriteFile(filepath.Join(dir, tempPrefix+"crashed"), []byte("half"), 0o644)).To(Succeed())

	_, err = s.Apply(context.Background(), render(t, map[string]string{"1": `{"id":1,"v":"new"}`, "2": `{"id":2}`}))
	g.Expect(err).NotTo(HaveOccurred())

	old, err := io.ReadAll(reader)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(old)).To(Equal(`{"id":1,"v":"old"}`))
	g.Expect(files(t, dir)).To(HaveKeyWithValue("1.json", `{"id":1,"v":"new"}`))
	g.Expect(files(t, dir)).NotTo(HaveKey(HavePrefix(tempPrefix)), "no temporary file is left behind")

	unchangedAfter, err := os.Stat(filepath.Join(dir, "2.json"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.SameFile(unchangedBefore, unchangedAfter)).To(BeTrue(), "an unchanged item's file is not rewritten")
}

func TestDirectoryStoreRemovesFilesNoLongerInTheData(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	s := &DirectoryStore{Dir: dir}
	_, err := s.Apply(context.Background(), render(t, map[string]string{"1": `{"id":1}`, "2": `{"id":2}`, "3": `{"id":3}`}))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(filepath.Join(dir, "stray.txt"), []byte("x"), 0o644)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, ".keep"), []byte("x"), 0o644)).To(Succeed())
	g.Expect(os.Mkdir(filepath.Join(dir, "sub"), 0o755)).To(Succeed())

	r := render(t, map[string]string{"2": `{"id":2}`})
	_, err = s.Apply(context.Background(), r)
	g.Expect(err).NotTo(HaveOccurred())

	got := files(t, dir)
	g.Expect(got).To(HaveLen(3))
	g.Expect(got).To(HaveKey("2.json"))
	g.Expect(got).To(HaveKey(".keep"), "dotfiles are not the store's")
	g.Expect(got).To(HaveKey(IndexFile))
	g.Expect(filepath.Join(dir, "sub")).To(BeADirectory())
	idx, err := s.ReadIndex()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(idx.Keys).To(Equal([]string{"2.json"}))
	g.Expect(idx.Items).To(Equal(1))

	_, err = s.Apply(context.Background(), render(t, nil))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(files(t, dir)).To(HaveLen(2), "an empty mirror leaves the index and the dotfile")
	idx, err = s.ReadIndex()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(idx.Keys).To(BeEmpty())
}

func TestDirectoryStoreSkipsWhenTheIndexHasTheHash(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	calls := 0
	s := &DirectoryStore{Dir: dir, Now: func() time.Time { calls++; return fixedNow }}
	r := render(t, map[string]string{"1": `{"id":1}`})

	result, err := s.Apply(context.Background(), r)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal("success"))
	result, err = s.Apply(context.Background(), r)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal("skipped"))
	g.Expect(calls).To(Equal(1), "index.json is not rewritten")

	// Someone deleted a file: the same hash is written again.
	g.Expect(os.Remove(filepath.Join(dir, "1.json"))).To(Succeed())
	result, err = s.Apply(context.Background(), r)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal("success"))
	g.Expect(files(t, dir)).To(HaveKeyWithValue("1.json", `{"id":1}`))
}

func TestDirectoryStoreListLayoutWritesOneFile(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	s := &DirectoryStore{Dir: dir, Now: func() time.Time { return fixedNow }}
	_, err := s.Apply(context.Background(), render(t, map[string]string{"1": `{"id":1}`}))
	g.Expect(err).NotTo(HaveOccurred())

	m := mirror.New(mirror.List, "messages.json")
	m.Replace(map[string]json.RawMessage{"10": json.RawMessage(`{"id":10}`), "9": json.RawMessage(`{"id":9}`)})
	r, err := m.Render()
	g.Expect(err).NotTo(HaveOccurred())
	_, err = s.Apply(context.Background(), r)
	g.Expect(err).NotTo(HaveOccurred())

	got := files(t, dir)
	names := make([]string, 0, len(got))
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	g.Expect(names).To(Equal([]string{IndexFile, "messages.json"}), "the PerItem files of before are gone")
	g.Expect(got["messages.json"]).To(Equal(`[{"id":9},{"id":10}]`))
	g.Expect(got[IndexFile]).To(MatchJSON(`{"hash":"` + r.Hash + `","items":2,"keys":["messages.json"],"updated":"2026-11-27T10:00:00.000000123Z"}`))
}

func TestDirectoryStoreRefusesKeysThatAreNotPlainFileNames(t *testing.T) {
	for _, key := range []string{"../escape.json", "a/b.json", ".hidden", IndexFile, ".."} {
		t.Run(key, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			s := &DirectoryStore{Dir: filepath.Join(dir, "data")}
			_, err := s.Apply(context.Background(), mirror.Rendered{Data: map[string]string{key: "[]"}, Hash: "h", Items: 0})
			var te *TargetError
			g.Expect(errors.As(err, &te)).To(BeTrue(), "a bad key cannot be fixed by retrying: %v", err)
			g.Expect(te.Message).To(ContainSubstring(key))
			g.Expect(filepath.Join(dir, "escape.json")).NotTo(BeAnExistingFile())
			g.Expect(filepath.Join(dir, "data")).NotTo(BeADirectory(), "nothing was written")
		})
	}
}
