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

// Realtime subscriptions: subscribe, and the dispatch of each change to
// every matching subscription, one after another, as Directus does.

import (
	"fmt"
	"slices"
)

func (s *Server) handleSubscribeLocked(c *wsConn, obj map[string]any, uid any, hasUID bool) {
	coll, ok := obj["collection"].(string)
	if !ok {
		c.sendLocked(errFrame("subscribe", "INVALID_PAYLOAD", `Validation error: Invalid input: expected string, received undefined at "collection"`, nil, false))
		return
	}
	event := ""
	if ev, present := obj["event"]; present {
		e, _ := ev.(string)
		if e != "create" && e != "update" && e != "delete" {
			c.sendLocked(errFrame("subscribe", "INVALID_PAYLOAD", `Validation error: Invalid input: expected "create" at "event"`+
				` or Invalid input: expected "update" at "event" or Invalid input: expected "delete" at "event"`, nil, false))
			return
		}
		event = e
	}
	var qm map[string]any
	if qv, present := obj["query"]; present && qv != nil {
		m, ok := qv.(map[string]any)
		if !ok {
			msg := fmt.Sprintf(`Validation error: Invalid input: expected record, received %s at "query"`, jsonKind(qv))
			c.sendLocked(errFrame("subscribe", "INVALID_PAYLOAD", msg, nil, false))
			return
		}
		qm = m
	}
	sb := &sub{collection: coll, event: event, item: obj["item"], query: qm, hasUID: hasUID}
	if hasUID {
		sb.uid = uidString(uid)
	}
	suid := any(sb.uid)
	if event == "" {
		if !s.canReadLocked(c.user, coll) {
			c.sendLocked(errFrame("subscribe", "FORBIDDEN", errForbiddenCollection(coll).message, suid, hasUID))
			return
		}
		col := s.collections[coll]
		q, qerr := parseQuery(qm, col)
		if qerr != nil {
			c.sendLocked(errFrame("subscribe", qerr.code, qerr.message, suid, hasUID))
			return
		}
		c.addSubLocked(sb)
		f := map[string]any{"type": "subscription", "event": "init"}
		if sb.item != nil {
			rows := s.readLocked(col, query{fields: q.fields}, []any{sb.item})
			if len(rows) > 0 {
				f["data"] = rows[0]
			} else {
				f["data"] = nil
			}
		} else {
			rows := s.readLocked(col, q, nil)
			f["data"] = rows
			if m := metaFor(q, col, len(rows)); m != nil {
				f["meta"] = m
			}
		}
		if hasUID {
			f["uid"] = sb.uid
		}
		c.sendLocked(f)
		return
	}
	c.addSubLocked(sb)
	f := map[string]any{"type": "subscription", "event": "init"}
	if hasUID {
		f["uid"] = sb.uid
	}
	c.sendLocked(f)
}

func (c *wsConn) addSubLocked(sb *sub) {
	if sb.hasUID {
		c.subs = slices.DeleteFunc(c.subs, func(x *sub) bool { return x.hasUID && x.uid == sb.uid })
	}
	c.subs = append(c.subs, sb)
}

// emitLocked dispatches an event to every matching subscription on every socket, re-reading
// the rows with the subscription's query and the socket's current identity.
func (s *Server) emitLocked(col *collection, event string, keys []any) {
	for _, c := range s.connList() {
		for _, sb := range c.subs {
			if sb.collection != col.name || (sb.event != "" && sb.event != event) {
				continue
			}
			s.dispatchLocked(c, sb, col, event, keys)
		}
	}
}

func (s *Server) dispatchLocked(c *wsConn, sb *sub, col *collection, event string, keys []any) {
	var suid any = sb.uid
	frame := func(data any, meta map[string]any) map[string]any {
		f := map[string]any{"type": "subscription", "event": event, "data": data}
		if meta != nil {
			f["meta"] = meta
		}
		if sb.hasUID {
			f["uid"] = sb.uid
		}
		return f
	}
	if sb.item != nil {
		// Item subscriptions only hear about their item, and updates only when the key came
		// as a string (from a URL).
		if event == "create" {
			return
		}
		var match any
		for _, k := range keys {
			if keyString(k) == keyString(sb.item) && (event == "delete" || isString(k)) {
				match = k
			}
		}
		if match == nil {
			return
		}
		if event == "delete" {
			c.sendLocked(frame(match, nil))
			return
		}
	}
	q, qerr := parseQuery(sb.query, col)
	if event == "delete" {
		c.sendLocked(frame(keys, metaFor(q, col, 0)))
		return
	}
	if !s.canReadLocked(c.user, col.name) {
		c.sendLocked(errFrame("subscribe", "FORBIDDEN", errForbiddenCollection(col.name).message, suid, sb.hasUID))
		return
	}
	if qerr != nil {
		c.sendLocked(errFrame("subscribe", qerr.code, qerr.message, suid, sb.hasUID))
		return
	}
	if !q.hasLim {
		q.hasLim, q.limit = true, -1
	}
	q.offset = 0
	rows := s.readLocked(col, q, keys)
	if len(rows) == 0 {
		return
	}
	if sb.item != nil {
		c.sendLocked(frame(rows[0], nil))
		return
	}
	c.sendLocked(frame(rows, metaFor(q, col, len(rows))))
}
