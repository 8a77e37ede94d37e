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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// directus is the Directus the operator talks to: a real one started by
// hack/directus.sh, or the in-repo fake in this process.
type directus interface {
	// URL is the base URL the subscriptions name.
	URL() string
	// Token is the bot's static token (may read and write messages).
	Token() string
	// Port is the TCP port the operator's sockets go to.
	Port() int
	// PID is the server's process, 0 when it runs in this process.
	PID() int
	// Seed creates, for each i < n, two messages with user "u<i>" and
	// returns their primary keys, by i.
	Seed(ctx context.Context, n int) ([][]string, error)
	// Describe names the server for the report.
	Describe() string
	Stop()
}

const (
	itemsPerUser = 2
	collection   = "messages"
)

func seedItems(from, to int) []map[string]any {
	items := make([]map[string]any, 0, (to-from)*itemsPerUser)
	for i := from; i < to; i++ {
		for j := range itemsPerUser {
			items = append(items, map[string]any{"text": fmt.Sprintf("bench message %d of u%d", j, i), "user": fmt.Sprintf("u%d", i)})
		}
	}
	return items
}

// ---- a real Directus, through hack/directus.sh ----

type realDirectus struct{ *benchkit.Directus }

func startRealDirectus(ctx context.Context, root string, port int, state string, extraEnv []string) (*realDirectus, error) {
	bd, err := benchkit.StartDirectus(ctx, root, port, state, extraEnv, func(env map[string]string) error {
		if env["DIRECTUS_URL"] == "" || env["DIRECTUS_BOT_TOKEN"] == "" {
			return fmt.Errorf("hack/directus.sh env printed no DIRECTUS_URL or DIRECTUS_BOT_TOKEN")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &realDirectus{bd}, nil
}

func (d *realDirectus) Describe() string {
	return fmt.Sprintf("real Directus (hack/directus.sh) at %s", d.URL())
}

// Seed posts the items in batches (arrays), one batch at a time: Directus
// on SQLite sheds load with 503 "Under pressure" when pushed harder, and a
// 503 or 429 is retried (the batch was not written).
func (d *realDirectus) Seed(ctx context.Context, n int) ([][]string, error) {
	const batchUsers = 125 // 250 items per POST
	keys := make([][]string, n)
	client := &http.Client{Timeout: 2 * time.Minute}
	for from := 0; from < n; from += batchUsers {
		to := min(from+batchUsers, n)
		body, err := json.Marshal(seedItems(from, to))
		if err != nil {
			return nil, err
		}
		var created []map[string]any
		for attempt := 1; ; attempt++ {
			status, err := d.post(ctx, client, "/items/"+collection, body, &created)
			if err == nil {
				break
			}
			if (status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests) || attempt == 20 {
				return nil, err
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(min(attempt, 10)) * 500 * time.Millisecond):
			}
		}
		for _, item := range created {
			user, _ := item["user"].(string)
			i, err := strconv.Atoi(strings.TrimPrefix(user, "u"))
			if err != nil || i < from || i >= to {
				return nil, fmt.Errorf("a create answered with an unexpected item: %v", item)
			}
			keys[i] = append(keys[i], fmt.Sprint(item["id"]))
		}
	}
	return keys, nil
}

func (d *realDirectus) post(ctx context.Context, client *http.Client, path string, body []byte, out *[]map[string]any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.Token())
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("POST %s: HTTP %d: %.300s", path, resp.StatusCode, b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var env struct {
		Data []map[string]any `json:"data"`
	}
	if err := dec.Decode(&env); err != nil {
		return resp.StatusCode, fmt.Errorf("POST %s: %w", path, err)
	}
	*out = env.Data
	return resp.StatusCode, nil
}

// ---- the in-repo fake, in this process ----

const fakeToken = "bot-static-token"

type fakeDirectus struct{ s *fakedirectus.Server }

func startFakeDirectus() *fakeDirectus {
	// Like hack/directus.sh's Directus: handshake auth, a 30 s heartbeat.
	s := fakedirectus.New(fakedirectus.Options{HeartbeatPeriod: 30 * time.Second})
	s.AddCollection(collection, "id", "text", "user", "date_created")
	s.AddUser(fakedirectus.User{Email: "bot@example.com", StaticToken: fakeToken, Read: []string{collection}, Write: []string{collection}})
	return &fakeDirectus{s: s}
}

func (f *fakeDirectus) URL() string   { return f.s.URL() }
func (f *fakeDirectus) Token() string { return fakeToken }
func (f *fakeDirectus) PID() int      { return 0 }
func (f *fakeDirectus) Port() int {
	u, err := url.Parse(f.s.URL())
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}
func (f *fakeDirectus) Describe() string {
	return fmt.Sprintf("fake Directus (realtime/fakedirectus, in the harness process) at %s", f.s.URL())
}
func (f *fakeDirectus) Stop() { f.s.Close() }

func (f *fakeDirectus) Seed(_ context.Context, n int) ([][]string, error) {
	keys := make([][]string, n)
	items := seedItems(0, n)
	created := f.s.Create(collection, items...)
	if len(created) != len(items) {
		return nil, fmt.Errorf("fake Directus created %d of %d items", len(created), len(items))
	}
	for k, key := range created {
		i := k / itemsPerUser
		keys[i] = append(keys[i], fmt.Sprint(key))
	}
	return keys, nil
}
