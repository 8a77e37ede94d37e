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
	"time"

	"github.com/directus-operator/directus-operator/controllers/mirror"
)

// touched takes the items an update named on the exit watch: those the
// mirror holds may have left the filter, which Directus does not say.
func (s *MirrorSink) touched(items []json.RawMessage) {
	for _, item := range items {
		var row map[string]json.RawMessage
		if err := json.Unmarshal(item, &row); err != nil {
			continue
		}
		raw, ok := row[s.plan.keyField]
		if !ok {
			continue
		}
		key, err := mirror.ScalarString(raw)
		if err != nil || !s.m.Has(key) {
			continue
		}
		if s.exits == nil {
			s.exits = map[string]json.RawMessage{}
		}
		s.exits[key] = raw
	}
}

// maxExitCheck bounds the keys one exit check asks about.
const maxExitCheck = 500

// checkExits asks Directus which of the updated items still match the
// query and drops the others: one read per burst of updates to
// mirrored items. Messages received meanwhile are applied after it, in
// order, so an item that left and came back ends up back.
func (s *MirrorSink) checkExits(ctx context.Context) {
	keys := make([]string, 0, min(len(s.exits), maxExitCheck))
	raws := make([]json.RawMessage, 0, cap(keys))
	for k, raw := range s.exits {
		if len(keys) == maxExitCheck {
			break
		}
		keys, raws = append(keys, k), append(raws, raw)
	}
	for _, k := range keys {
		delete(s.exits, k)
	}
	exitChecksTotal.Inc()
	q, err := s.plan.exitCheckQuery(raws)
	var rows []json.RawMessage
	if err == nil {
		rows, err = s.env.readAll(ctx, q, s.plan.keyField)
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		// A full read settles exits too, with its own retries and status.
		s.env.log.Info("Checking updated items against the filter failed, reading the collection", "error", err.Error())
		s.exits = nil
		s.requestRead("gap")
		return
	}
	still := make(map[string]bool, len(rows))
	for _, row := range rows {
		if k, err := mirror.ItemKey(row, s.plan.keyField); err == nil {
			still[k] = true
		}
	}
	changed := false
	for _, k := range keys {
		if !still[k] {
			changed = s.m.Delete(k) || changed
		}
	}
	if changed {
		s.markDirty(time.Now())
	}
}
