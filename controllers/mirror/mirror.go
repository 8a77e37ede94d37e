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

package mirror

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Layout is how items are laid out in the rendered data.
type Layout string

const (
	// PerItem renders each item under its own key, KeyToDataKey(key).
	PerItem Layout = "PerItem"
	// List renders every item as one JSON array, ordered by key.
	List Layout = "List"
)

// MaxDataSize is the most a ConfigMap may hold: the API server refuses
// ConfigMaps whose data exceeds 1 MiB.
const MaxDataSize = 1 << 20

// Mirror is a concurrency-safe map from item key to the item's JSON, with a
// sequence number that grows with every change so a writer can tell whether
// what it wrote is still current.
type Mirror struct {
	layout  Layout
	listKey string
	tmpl    *Template

	mu    sync.Mutex
	items map[string]json.RawMessage
	seq   uint64
}

// New returns an empty mirror. listKey is used by the List layout.
func New(layout Layout, listKey string) *Mirror {
	if listKey == "" {
		listKey = "items.json"
	}
	return &Mirror{layout: layout, listKey: listKey, items: map[string]json.RawMessage{}}
}

// WithTemplate makes Render lay the items out through t, in place of the
// layout. It returns m.
func (m *Mirror) WithTemplate(t *Template) *Mirror {
	m.tmpl = t
	return m
}

// Replace swaps the whole content, as after a snapshot.
func (m *Mirror) Replace(items map[string]json.RawMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items = make(map[string]json.RawMessage, len(items))
	for k, v := range items {
		m.items[k] = compact(v)
	}
	m.seq++
}

// Upsert stores one item. It reports whether the content changed.
func (m *Mirror) Upsert(key string, item json.RawMessage) bool {
	item = compact(item)
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.items[key]; ok && bytes.Equal(old, item) {
		return false
	}
	m.items[key] = item
	m.seq++
	return true
}

// Delete removes one item; deleting a key that is not there is a no-op,
// as Directus sends deletes without applying the query's filter.
func (m *Mirror) Delete(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[key]; !ok {
		return false
	}
	delete(m.items, key)
	m.seq++
	return true
}

// Has tells whether the mirror holds key.
func (m *Mirror) Has(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.items[key]
	return ok
}

// Len is the number of items.
func (m *Mirror) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// Seq is the change counter.
func (m *Mirror) Seq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seq
}

// Rendered is the mirror as ConfigMap data at one sequence number.
type Rendered struct {
	Data  map[string]string
	Hash  string
	Seq   uint64
	Items int
	// Size is the number of bytes the data takes (keys and values).
	Size int
}

// Render lays the items out as ConfigMap data and hashes it. A template
// that fails on the items is a *TemplateError.
func (m *Mirror) Render() (Rendered, error) {
	m.mu.Lock()
	keys := make([]string, 0, len(m.items))
	for k := range m.items {
		keys = append(keys, k)
	}
	items := make(map[string]json.RawMessage, len(m.items))
	maps.Copy(items, m.items)
	seq := m.seq
	m.mu.Unlock()

	SortKeys(keys)
	data := make(map[string]string, len(keys))
	switch {
	case m.tmpl != nil:
		out, err := m.tmpl.execute(keys, items)
		if err != nil {
			return Rendered{}, err
		}
		data[m.tmpl.key] = out
	case m.layout == List:
		var b bytes.Buffer
		b.WriteByte('[')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(items[k])
		}
		b.WriteByte(']')
		data[m.listKey] = b.String()
	default:
		for _, k := range keys {
			dk, err := KeyToDataKey(k)
			if err != nil {
				return Rendered{}, err
			}
			data[dk] = string(items[k])
		}
	}
	return Rendered{Data: data, Hash: Hash(data), Seq: seq, Items: len(keys), Size: DataSize(data)}, nil
}

// Hash is a stable digest of ConfigMap data.
func Hash(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		_, _ = fmt.Fprintf(h, "%d:%s%d:", len(k), k, len(data[k])) // a hash.Hash never fails a write
		h.Write([]byte(data[k]))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// DataSize is the size the API server counts for ConfigMap data.
func DataSize(data map[string]string) int {
	n := 0
	for k, v := range data {
		n += len(k) + len(v)
	}
	return n
}

// SortKeys orders item keys naturally: numeric keys numerically and before
// the others, the others as strings.
func SortKeys(keys []string) {
	sort.Slice(keys, func(i, j int) bool {
		a, aerr := strconv.ParseFloat(keys[i], 64)
		b, berr := strconv.ParseFloat(keys[j], 64)
		switch {
		case aerr == nil && berr == nil && a != b:
			return a < b
		case aerr == nil && berr != nil:
			return true
		case aerr != nil && berr == nil:
			return false
		}
		return keys[i] < keys[j]
	})
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return b.Bytes()
}

// dataKeySuffix ends every PerItem data key, so that tools can tell items
// from other keys and editors highlight them as JSON.
const dataKeySuffix = ".json"

// maxDataKeyLen is the API server's limit for a ConfigMap key.
const maxDataKeyLen = 253

// KeyToDataKey maps an item key to a valid ConfigMap data key, reversibly:
// ASCII letters, digits and '-' stay as they are; every other byte,
// '_' and '.' included, becomes '_' followed by two upper-case hex digits;
// ".json" is appended. So 42 → "42.json", "a.b" → "a_2Eb.json",
// "été" → "_C3_A9t_C3_A9.json". DataKeyToKey is its inverse.
func KeyToDataKey(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("item key is empty")
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "_%02X", c)
	}
	b.WriteString(dataKeySuffix)
	if b.Len() > maxDataKeyLen {
		return "", fmt.Errorf("item key %q is too long for a ConfigMap key (%d > %d bytes once escaped)", truncate(key, 40), b.Len(), maxDataKeyLen)
	}
	return b.String(), nil
}

// DataKeyToKey reverses KeyToDataKey.
func DataKeyToKey(dataKey string) (string, error) {
	s, ok := strings.CutSuffix(dataKey, dataKeySuffix)
	if !ok {
		return "", fmt.Errorf("data key %q does not end in %s", dataKey, dataKeySuffix)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			return "", fmt.Errorf("data key %q has a truncated escape", dataKey)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("data key %q has a bad escape: %w", dataKey, err)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
