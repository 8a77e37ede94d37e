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
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// queryPlan is the query sent to Directus and what a sink does with it.
type queryPlan struct {
	query    json.RawMessage
	keyField string
	// strip removes keyField from stored items: the operator added it to a
	// fields list that did not ask for it.
	strip bool
	// refresh keeps the mirror exact by full reads (coalesced) after
	// changes instead of patching it event by event: for a query with a
	// limit, since Directus truncates events to the limit and says nothing
	// about rows pushed out of the window; and for a key field other than
	// the primary key, since delete events carry primary keys only.
	refresh bool
	// limited is a query with a limit: its full read must honour the sort
	// and the limit that define the window.
	limited bool
	// watchExits is a mirror with a filter or a search, patched event by
	// event: an update that moves an item out of the filter sends nothing
	// on its subscription, so a second one (every update, keys only) names
	// the items to check.
	watchExits bool
}

// planInput is what a sink needs from the plan.
type planInput struct {
	// keyField names items; empty means the primary key.
	keyField string
	// storesItems is true for sinks that keep items by key (the mirror):
	// the key field must then be among the fields Directus returns.
	storesItems bool
	// event is the subscription's event filter ("" for all).
	event string
}

// makePlan decides the key field and the query to subscribe with, given
// the collection's primary key pk.
func makePlan(query json.RawMessage, pk string, in planInput) (queryPlan, error) {
	p := queryPlan{query: query, keyField: pk}
	if in.keyField != "" && in.keyField != pk {
		// Delete events name primary keys, and an update can change the
		// key field: a mirror keyed by another field follows full reads.
		p.keyField, p.refresh = in.keyField, true
	}
	var q map[string]json.RawMessage
	if len(query) > 0 {
		if err := json.Unmarshal(query, &q); err != nil {
			return p, fmt.Errorf("query is not a JSON object: %w", err)
		}
	}
	if raw, ok := q["limit"]; ok && string(raw) != "-1" {
		p.refresh, p.limited = true, true
	}
	if !in.storesItems {
		return p, nil
	}
	_, filtered := q["filter"]
	_, searched := q["search"]
	p.watchExits = (filtered || searched) && !p.refresh && (in.event == "" || in.event == "update")
	if raw, ok := q["fields"]; ok {
		var fields []string
		if err := json.Unmarshal(raw, &fields); err == nil && !slices.Contains(fields, p.keyField) && !slices.ContainsFunc(fields, allTopLevel) {
			q["fields"], _ = json.Marshal(append(fields, p.keyField))
			p.strip = true
			p.query, _ = json.Marshal(q)
		}
	}
	return p, nil
}

// allTopLevel tells whether a fields entry already returns every top-level
// field: "*", "*.*", "*.author"...
func allTopLevel(field string) bool { return field == "*" || strings.HasPrefix(field, "*.") }

// snapshotQuery is the query of full reads of a window: the subscription's,
// sorted by the key field when it names no order, so that paging is stable.
func (p queryPlan) snapshotQuery() json.RawMessage {
	if p.keyField == "" {
		return p.query
	}
	q := map[string]json.RawMessage{}
	if len(p.query) > 0 {
		if err := json.Unmarshal(p.query, &q); err != nil {
			return p.query
		}
	}
	if _, ok := q["sort"]; ok {
		return p.query
	}
	q["sort"], _ = json.Marshal([]string{p.keyField})
	out, _ := json.Marshal(q)
	return out
}

func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// exitWatchQuery is the query of the second subscription that names
// updated items: their keys only.
func (p queryPlan) exitWatchQuery() json.RawMessage {
	q, _ := json.Marshal(map[string][]string{"fields": {p.keyField}})
	return q
}

// exitCheckQuery reads which of keys (raw JSON values of the key field)
// still match the subscription's filter and search.
func (p queryPlan) exitCheckQuery(keys []json.RawMessage) (json.RawMessage, error) {
	var q map[string]json.RawMessage
	if err := json.Unmarshal(p.query, &q); err != nil {
		return nil, err
	}
	in, err := json.Marshal(map[string]map[string][]json.RawMessage{p.keyField: {"_in": keys}})
	if err != nil {
		return nil, err
	}
	filter := json.RawMessage(in)
	if f, ok := q["filter"]; ok {
		filter, _ = json.Marshal(map[string][]json.RawMessage{"_and": {f, in}})
	}
	out := map[string]json.RawMessage{"filter": filter, "limit": json.RawMessage("-1")}
	out["fields"], _ = json.Marshal([]string{p.keyField})
	if s, ok := q["search"]; ok {
		out["search"] = s
	}
	return json.Marshal(out)
}
