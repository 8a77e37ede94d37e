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

// The "items" messages of the realtime API (read, create, update, delete).

import (
	"strings"
)

func isString(v any) bool { _, ok := v.(string); return ok }

func (s *Server) handleItemsLocked(c *wsConn, obj map[string]any, uid any, hasUID bool) {
	fail := func(e *apiError) { c.sendLocked(errFrame("items", e.code, e.message, uid, hasUID)) }
	coll, _ := obj["collection"].(string)
	action, _ := obj["action"].(string)
	if strings.HasPrefix(coll, "directus_") {
		fail(&apiError{"INVALID_COLLECTION", "Cannot trigger an action on a system collection."})
		return
	}
	switch action {
	case "create", "read", "update", "delete":
	default:
		fail(&apiError{"INVALID_PAYLOAD", `Validation error: Invalid input: expected "create" at "action" or Invalid input: expected "read" at "action"` +
			` or Invalid input: expected "update" at "action" or Invalid input: expected "delete" at "action"`})
		return
	}
	allowed := s.canReadLocked(c.user, coll)
	if action != "read" {
		allowed = s.canWriteLocked(c.user, coll)
	}
	if !allowed {
		fail(errForbiddenCollection(coll))
		return
	}
	col := s.collections[coll]
	qm, _ := obj["query"].(map[string]any)
	q, qerr := parseQuery(qm, col)
	if qerr != nil {
		fail(qerr)
		return
	}
	data, apiErr := s.itemsLocked(col, action, obj["id"], obj["ids"], obj["data"], q, qm != nil)
	if apiErr != nil {
		fail(apiErr)
		return
	}
	f := map[string]any{"type": "items", "data": data}
	if hasUID {
		f["uid"] = uid
	}
	if action == "read" && q.meta != "" {
		f["meta"] = metaFor(q, col, 0)
	}
	c.sendLocked(f)
}

// itemsLocked runs an items action (shared by the socket and REST) and emits its events.
func (s *Server) itemsLocked(col *collection, action string, id, ids, data any, q query, hasQuery bool) (any, *apiError) {
	idList, _ := ids.([]any)
	all := query{fields: q.fields}
	all.hasLim, all.limit = true, -1
	switch action {
	case "create":
		switch d := data.(type) {
		case map[string]any:
			k := col.insertLocked(d)
			s.emitLocked(col, "create", []any{k})
			rows := s.readLocked(col, all, []any{k})
			if len(rows) == 0 {
				return nil, nil
			}
			return rows[0], nil
		case []any:
			var keys []any
			for _, e := range d {
				m, _ := e.(map[string]any)
				k := col.insertLocked(m)
				keys = append(keys, k)
				s.emitLocked(col, "create", []any{k})
			}
			return s.readLocked(col, all, keys), nil
		}
		return nil, &apiError{"INVALID_PAYLOAD", `Validation error: Invalid input: expected object at "data"`}
	case "read":
		switch {
		case id != nil:
			rows := s.readLocked(col, all, []any{id})
			if len(rows) == 0 {
				return nil, nil
			}
			return rows[0], nil
		case idList != nil:
			return s.readLocked(col, all, idList), nil
		}
		return s.readLocked(col, q, nil), nil
	case "update":
		patch, ok := data.(map[string]any)
		if !ok {
			return nil, &apiError{"INVALID_PAYLOAD", `Validation error: Invalid input: expected record at "data"`}
		}
		keys := idList
		if id != nil {
			keys = []any{id}
		} else if keys == nil && hasQuery {
			keys = s.keysLocked(col, q)
		}
		if keys == nil {
			return nil, &apiError{"INVALID_PAYLOAD", "Either 'ids', 'id' or 'query' is required for an UPDATE request."}
		}
		s.updateLocked(col, keys, patch)
		s.emitLocked(col, "update", keys)
		rows := s.readLocked(col, all, keys)
		if id != nil {
			if len(rows) == 0 {
				return nil, nil
			}
			return rows[0], nil
		}
		return rows, nil
	default: // delete
		var keys []any
		var reply any
		switch {
		case id != nil:
			keys, reply = []any{id}, id
		case idList != nil:
			keys, reply = idList, idList
		case hasQuery:
			keys = s.keysLocked(col, q)
			reply = keys
		default:
			return nil, &apiError{"INVALID_PAYLOAD", "Either 'ids', 'id' or 'query' is required for a DELETE request."}
		}
		s.deleteLocked(col, keys)
		s.emitLocked(col, "delete", keys)
		return reply, nil
	}
}

func (s *Server) keysLocked(col *collection, q query) []any {
	q.fields = []string{col.pk}
	rows := s.readLocked(col, q, nil)
	keys := make([]any, 0, len(rows))
	for _, r := range rows {
		keys = append(keys, r[col.pk])
	}
	return keys
}
