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

package fakedirectus

// The collections' data: the test's writes (announced or silent) and the
// reads both APIs share.

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// normalize deep-copies v through JSON, so numbers become float64 like decoded payloads.
func normalize(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("fakedirectus: item is not JSON: %v", err))
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func normalizeAny(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// insertLocked stores one item and returns its key.
func (c *collection) insertLocked(item map[string]any) any {
	row := normalize(item)
	if c.declared {
		for k := range row {
			if !c.fieldSet[k] {
				delete(row, k)
			}
		}
		for _, f := range c.fields {
			if _, ok := row[f]; !ok && f != c.pk {
				row[f] = nil
			}
		}
		if c.fieldSet["date_created"] && row["date_created"] == nil {
			row["date_created"] = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		}
	} else {
		for k := range row {
			c.fieldSet[k] = true
		}
	}
	if row[c.pk] == nil {
		row[c.pk] = float64(c.nextID)
		c.nextID++
	} else if f, ok := number(row[c.pk]); ok && int64(f) >= c.nextID {
		c.nextID = int64(f) + 1
	}
	if i, _ := c.find(row[c.pk]); i >= 0 {
		c.rows[i] = row
	} else {
		c.rows = append(c.rows, row)
	}
	return row[c.pk]
}

func (s *Server) coll(name string) *collection {
	c := s.collections[name]
	if c == nil {
		panic(fmt.Sprintf("fakedirectus: no collection %q", name))
	}
	return c
}

// Create creates items like REST POST /items/<collection> and emits one create event per item.
// It returns the keys.
func (s *Server) Create(collection string, items ...map[string]any) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	keys := make([]any, 0, len(items))
	for _, it := range items {
		k := c.insertLocked(it)
		keys = append(keys, k)
		s.emitLocked(c, "create", []any{k})
	}
	return keys
}

// Update patches the items with these keys and emits one update event carrying them all (as
// PATCH /items/<collection> {keys,data} does). A string key matches item subscriptions, like
// PATCH /items/<collection>/<key>.
func (s *Server) Update(collection string, keys []any, patch map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	s.updateLocked(c, keys, patch)
	s.emitLocked(c, "update", keys)
}

func (s *Server) updateLocked(c *collection, keys []any, patch map[string]any) {
	p := normalize(patch)
	for _, k := range keys {
		if _, row := c.find(k); row != nil {
			for f, v := range p {
				if f == c.pk || (c.declared && !c.fieldSet[f]) {
					continue
				}
				row[f] = v
				c.fieldSet[f] = true
			}
		}
	}
}

// Delete deletes items and emits a delete event with the keys as given (numbers, like a WS or
// body delete). The filter of subscriptions does not apply.
func (s *Server) Delete(collection string, keys ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	s.deleteLocked(c, keys)
	s.emitLocked(c, "delete", keys)
}

// DeleteByURL deletes one item like DELETE /items/<collection>/<key>: the event's keys are
// strings (["44"]).
func (s *Server) DeleteByURL(collection string, key any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	s.deleteLocked(c, []any{key})
	s.emitLocked(c, "delete", []any{keyString(key)})
}

func (s *Server) deleteLocked(c *collection, keys []any) {
	for _, k := range keys {
		if i, _ := c.find(k); i >= 0 {
			c.rows = slices.Delete(c.rows, i, i+1)
		}
	}
}

// SetSilently creates or replaces items without emitting events (a write behind Directus's
// back).
func (s *Server) SetSilently(collection string, items ...map[string]any) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	keys := make([]any, 0, len(items))
	for _, it := range items {
		keys = append(keys, c.insertLocked(it))
	}
	return keys
}

// DeleteSilently deletes items without emitting events.
func (s *Server) DeleteSilently(collection string, keys ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(s.coll(collection), keys)
}

// Items returns a copy of the collection's rows in insertion order.
func (s *Server) Items(collection string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	out := make([]map[string]any, 0, len(c.rows))
	for _, r := range c.rows {
		out = append(out, normalize(r))
	}
	return out
}

// readLocked runs q over c: filter, search, sort, offset, limit (DefaultLimit unless set),
// projection.
func (s *Server) readLocked(c *collection, q query, keys []any) []map[string]any {
	var rows []map[string]any
	if keys != nil {
		for _, k := range keys {
			if _, r := c.find(k); r != nil {
				rows = append(rows, r)
			}
		}
	} else {
		rows = slices.Clone(c.rows)
	}
	out := rows[:0:0]
	for _, r := range rows {
		if matchFilter(r, q.filter) && matchSearch(r, q.search) {
			out = append(out, r)
		}
	}
	sortRows(out, q.sort)
	if q.offset > 0 {
		if q.offset >= len(out) {
			out = nil
		} else {
			out = out[q.offset:]
		}
	}
	limit := s.opts.DefaultLimit
	if q.hasLim {
		limit = q.limit
	}
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	res := make([]map[string]any, 0, len(out))
	for _, r := range out {
		res = append(res, project(r, q.fields))
	}
	return res
}

// metaLocked builds "meta" for q.meta.
func metaFor(q query, c *collection, filtered int) map[string]any {
	if q.meta == "" {
		return nil
	}
	m := map[string]any{}
	for _, k := range stringList(q.meta) {
		switch k {
		case "total_count", "*":
			m["total_count"] = len(c.rows)
		}
		if k == "filter_count" || k == "*" {
			m["filter_count"] = filtered
		}
	}
	return m
}
