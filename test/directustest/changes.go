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

// Package directustest holds what the suites that run against a real Directus share:
// a stream of changes to the quickstart's messages collection, and the
// collection laid out as the ConfigMap data its mirror must equal.
package directustest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime"
)

// Changes is a stream of creates, updates and deletes of messages with one
// user, 10 a second, until Stop: what a fault or a failover happens during.
// It writes with its own identity (an admin), so that a fault on the
// operator's token does not stop it.
type Changes struct {
	done   atomic.Int64
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartChanges starts the stream as rest, for messages of user.
func StartChanges(rest *realtime.REST, user string) *Changes {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Changes{cancel: cancel}
	c.wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond) // 10 changes/s: the workload
		defer tick.Stop()
		var keys []any
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var err error
			switch {
			case i%5 == 4 && len(keys) > 0:
				err = rest.Do(ctx, "DELETE", fmt.Sprintf("/items/messages/%v", keys[0]), nil, nil)
				if err == nil {
					keys = keys[1:]
				}
			case i%3 == 2 && len(keys) > 0:
				err = rest.Do(ctx, "PATCH", fmt.Sprintf("/items/messages/%v", keys[len(keys)-1]), map[string]any{"text": fmt.Sprintf("edit %d", i)}, nil)
			default:
				var out map[string]any
				err = rest.Do(ctx, "POST", "/items/messages", map[string]any{"text": fmt.Sprintf("change %d", i), "user": user}, &out)
				if err == nil {
					keys = append(keys, out["id"])
				}
			}
			if err == nil {
				c.done.Add(1)
			}
		}
	})
	return c
}

// Done is the number of changes Directus accepted so far.
func (c *Changes) Done() int64 { return c.done.Load() }

// Await waits until n more changes were accepted.
func (c *Changes) Await(t *testing.T, n int64, timeout time.Duration) {
	t.Helper()
	target := c.done.Load() + n
	gomega.NewWithT(t).Eventually(c.done.Load, timeout, 100*time.Millisecond).Should(gomega.BeNumerically(">=", target))
}

// Stop ends the stream and waits for its last change.
func (c *Changes) Stop() {
	c.cancel()
	c.wg.Wait()
}

// Collection reads messages (with an optional query) as rest and lays it out
// as the PerItem ConfigMap data the mirror must equal.
func Collection(g gomega.Gomega, rest *realtime.REST, query string) map[string]any {
	var q json.RawMessage
	if query != "" {
		q = json.RawMessage(query)
	}
	rows, err := rest.ReadAll(context.Background(), "messages", q, realtime.ReadOptions{})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	out := map[string]any{}
	for _, r := range rows {
		k, err := mirror.ItemKey(r, "id")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		dk, _ := mirror.KeyToDataKey(k)
		var v any
		g.Expect(json.Unmarshal(r, &v)).To(gomega.Succeed())
		out[dk] = v
	}
	return out
}

// Decoded is ConfigMap data with each value decoded from JSON.
func Decoded(g gomega.Gomega, data map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		var x any
		g.Expect(json.Unmarshal([]byte(v), &x)).To(gomega.Succeed(), "key %s", k)
		out[k] = x
	}
	return out
}

// Diff counts what a mirror (have) misses of want, holds beyond it, and
// holds in another version.
func Diff(want, have map[string]any) (lost, phantom, stale int) {
	for k, v := range want {
		switch hv, ok := have[k]; {
		case !ok:
			lost++
		case fmt.Sprint(hv) != fmt.Sprint(v):
			stale++
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			phantom++
		}
	}
	return lost, phantom, stale
}
