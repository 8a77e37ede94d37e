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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
)

// IndexFile is the file a DirectoryStore writes after every data file: an
// application that watches it sees a complete, consistent directory.
const IndexFile = "index.json"

// tempPrefix starts the name of every temporary file a DirectoryStore
// writes; leftovers of a crash are removed by the next Apply.
const tempPrefix = ".directus-tmp-"

// DirectoryIndex is the content of index.json.
type DirectoryIndex struct {
	// Hash is the mirror's content hash (as in the ConfigMap's annotation).
	Hash string `json:"hash"`
	// Items is the number of items mirrored.
	Items int `json:"items"`
	// Keys are the data files, in the items' natural key order.
	Keys []string `json:"keys"`
	// Updated is when the directory was last written.
	Updated time.Time `json:"updated"`
}

// DirectoryStore writes a mirror as files into a directory, typically an
// emptyDir shared between the sidecar and an application: unlike a
// ConfigMap volume, which the kubelet refreshes after a minute or more, a
// change is visible at once.
//
// Each data key becomes a file written atomically (a temporary file in the
// same directory, fsync, rename), so a reader never sees half a file. Files
// that are no longer in the data are removed, then index.json is written
// last. The directory belongs to the store: any other regular file in it
// (except dotfiles) is removed too, the way a ConfigMap volume holds only
// its keys. Subdirectories are left alone.
type DirectoryStore struct {
	// Dir is the directory; it is created if missing.
	Dir string
	// Now returns the time for index.json's "updated". Defaults to time.Now.
	Now func() time.Time
}

var _ Store = (*DirectoryStore)(nil)

// Name implements Store.
func (s *DirectoryStore) Name() string { return "Directory:" + s.Dir }

// Apply implements Store. It returns "skipped" when index.json already
// holds r's hash and every file it lists exists.
func (s *DirectoryStore) Apply(ctx context.Context, r mirror.Rendered) (string, error) {
	keys, err := s.fileNames(r.Data)
	if err != nil {
		return "", err
	}
	prev, _ := s.ReadIndex()
	if prev != nil && prev.Hash == r.Hash && s.allExist(prev.Keys) {
		return resultSkipped, nil
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("create directory %s: %w", s.Dir, err)
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := s.writeIfChanged(k, []byte(r.Data[k])); err != nil {
			return "", err
		}
	}
	if err := s.removeStale(r.Data); err != nil {
		return "", err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	idx, err := json.Marshal(DirectoryIndex{Hash: r.Hash, Items: r.Items, Keys: keys, Updated: now().UTC()})
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", IndexFile, err)
	}
	if err := s.writeFile(IndexFile, append(idx, '\n')); err != nil {
		return "", err
	}
	if err := syncDir(s.Dir); err != nil {
		return "", err
	}
	return resultSuccess, nil
}

// ReadIndex reads index.json; it returns nil and an error wrapping
// fs.ErrNotExist before the first write.
func (s *DirectoryStore) ReadIndex() (*DirectoryIndex, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, IndexFile))
	if err != nil {
		return nil, err
	}
	var idx DirectoryIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("decode %s: %w", IndexFile, err)
	}
	return &idx, nil
}

// fileNames checks that every data key is a plain file name and returns
// them in the items' natural order.
func (s *DirectoryStore) fileNames(data map[string]string) ([]string, error) {
	type named struct{ file, key string }
	files := make([]named, 0, len(data))
	for k := range data {
		if k == "" || k == "." || k == ".." || strings.ContainsAny(k, `/\`) || strings.HasPrefix(k, ".") || k == IndexFile {
			return nil, &TargetError{Reason: v1alpha1.ReasonInvalidSpec, Message: fmt.Sprintf(
				"data key %q cannot be a file in %s: it must be a plain file name, not start with a dot and not be %s", k, s.Dir, IndexFile)}
		}
		key, err := mirror.DataKeyToKey(k)
		if err != nil {
			key = k // the List layout's single key
		}
		files = append(files, named{k, key})
	}
	keys := make([]string, len(files))
	byKey := make(map[string]string, len(files))
	for i, f := range files {
		keys[i] = f.key
		byKey[f.key] = f.file
	}
	mirror.SortKeys(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out, nil
}

func (s *DirectoryStore) allExist(files []string) bool {
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(s.Dir, f)); err != nil {
			return false
		}
	}
	return true
}

// writeIfChanged leaves a file that already holds content untouched, so a
// watcher only sees the files that changed.
func (s *DirectoryStore) writeIfChanged(name string, content []byte) error {
	if old, err := os.ReadFile(filepath.Join(s.Dir, name)); err == nil && bytes.Equal(old, content) {
		return nil
	}
	return s.writeFile(name, content)
}

// writeFile replaces name atomically: temporary file, fsync, rename.
func (s *DirectoryStore) writeFile(name string, content []byte) (err error) {
	f, err := os.CreateTemp(s.Dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(content); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = os.Rename(tmp, filepath.Join(s.Dir, name)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// removeStale removes regular files that are not in data: items that went
// away, the other layout's files, leftovers of an interrupted write.
func (s *DirectoryStore) removeStale(data map[string]string) error {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return fmt.Errorf("list directory %s: %w", s.Dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || name == IndexFile {
			continue
		}
		if _, ok := data[name]; ok {
			continue
		}
		if strings.HasPrefix(name, ".") && !strings.HasPrefix(name, tempPrefix) {
			continue
		}
		if err := os.Remove(filepath.Join(s.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}
	return nil
}

// syncDir makes the renames and removals durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
