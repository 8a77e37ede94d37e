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

package main

import (
	"strings"
	"testing"
	"time"
)

// The floor under a median target is the sum of the two medians, with the
// best write method for the ConfigMap's size; under a tail target only the
// larger of the two counts.
func TestFloorRow(t *testing.T) {
	const msec = time.Millisecond
	r := &results{writes: []*writeRun{
		{keys: 4, method: writeUpdate, diffs: []time.Duration{6 * msec}},
		{keys: 4, method: writePatch, diffs: []time.Duration{7 * msec}},
		{keys: 2000, method: writeUpdate, diffs: []time.Duration{30 * msec}},
	}}
	second := &phaseResult{diffs: []time.Duration{3 * msec}}
	for _, tc := range []struct {
		q           float64
		limit       time.Duration
		keys        int
		floor, want string
	}{
		{0.5, 5 * msec, 4, "| 9.0 ms |", "**below the strict bound**"},
		{0.5, 8 * msec, 4, "| 9.0 ms |", "**below the floor**"},
		{0.5, 10 * msec, 4, "| 9.0 ms |", "not below the floor"},
		{0.5, 10 * msec, 2000, "| 33 ms |", "**below the strict bound**"},
		{0.99, 8 * msec, 4, "only the bound holds", "not below the floor"},
	} {
		var b strings.Builder
		r.floorRow(&b, second, "target", tc.q, tc.limit, tc.keys)
		row := b.String()
		if !strings.Contains(row, tc.floor) || !strings.HasSuffix(row, "| "+tc.want+" |\n") {
			t.Errorf("q %.2f, limit %s, %d keys: got %q, want the floor %q and %q", tc.q, tc.limit, tc.keys, row, tc.floor, tc.want)
		}
	}
}
