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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// directus is a real Directus 12 started by hack/directus.sh (see
// benchkit.Directus), with the admin's credentials and a REST client.
type directus struct {
	*benchkit.Directus
	adminEmail    string
	adminPassword string

	http    *http.Client
	retries atomic.Int64 // creates retried after 503 or 429
}

func startDirectus(ctx context.Context, root string, port int, state string, extraEnv []string) (*directus, error) {
	bd, err := benchkit.StartDirectus(ctx, root, port, state, extraEnv, func(env map[string]string) error {
		if env["DIRECTUS_URL"] == "" || env["DIRECTUS_BOT_TOKEN"] == "" || env["DIRECTUS_ADMIN_EMAIL"] == "" || env["DIRECTUS_ADMIN_PASSWORD"] == "" {
			return fmt.Errorf("hack/directus.sh env printed no DIRECTUS_URL, DIRECTUS_BOT_TOKEN or admin credentials")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Node closes a keep-alive connection after 5 s of idleness; a POST sent
	// on it at that moment fails with "connection reset by peer", and a POST
	// is not retried (it may have created the item). The client closes idle
	// connections first.
	transport := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Second}
	return &directus{Directus: bd, adminEmail: bd.Env("DIRECTUS_ADMIN_EMAIL"), adminPassword: bd.Env("DIRECTUS_ADMIN_PASSWORD"),
		http: &http.Client{Timeout: 2 * time.Minute, Transport: transport}}, nil
}

// httpError is a non-2xx answer.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// call makes one REST call with a bearer token and decodes "data" into out.
func (d *directus) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.URL()+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &httpError{status: resp.StatusCode, msg: fmt.Sprintf("%s %s: HTTP %d: %.300s", method, path, resp.StatusCode, b)}
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	env := struct {
		Data any `json:"data"`
	}{Data: out}
	if err := dec.Decode(&env); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// callRetrying is call, retried while Directus sheds load (503 "Under
// pressure", 429): those requests were not carried out.
func (d *directus) callRetrying(ctx context.Context, method, path, token string, body, out any) error {
	for attempt := 1; ; attempt++ {
		err := d.call(ctx, method, path, token, body, out)
		var he *httpError
		if err == nil || !errors.As(err, &he) || (he.status != http.StatusServiceUnavailable && he.status != http.StatusTooManyRequests) || attempt == 30 {
			return err
		}
		d.retries.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(min(attempt, 10)) * 100 * time.Millisecond):
		}
	}
}

// The fields a bench item sets; Directus sets id and date_created.
const (
	fieldText = "text"
	fieldUser = "user"
)

// benchItem is the i-th item a phase creates; label names the subject and
// the phase.
func benchItem(label string, i int) map[string]any {
	return map[string]any{fieldText: fmt.Sprintf("bench %s %d", label, i), fieldUser: "bench"}
}

// createCollections creates collections shaped like the fixture's
// messages (id, date_created, text, user) and lets the bot's policy read
// and write them, as the admin.
func (d *directus) createCollections(ctx context.Context, names []string) error {
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if err := d.call(ctx, http.MethodPost, "/auth/login", "", map[string]string{"email": d.adminEmail, "password": d.adminPassword}, &login); err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	admin := login.AccessToken
	var policies []struct {
		ID string `json:"id"`
	}
	if err := d.call(ctx, http.MethodGet, "/policies?fields=id&filter="+url.QueryEscape(`{"name":{"_eq":"Public Posts"}}`), admin, nil, &policies); err != nil {
		return err
	}
	if len(policies) != 1 {
		return fmt.Errorf("the fixture's policy \"Public Posts\": found %d", len(policies))
	}
	field := func(name, typ string, meta, schema map[string]any) map[string]any {
		return map[string]any{"field": name, "type": typ, "meta": meta, "schema": schema}
	}
	var perms []map[string]any
	for _, name := range names {
		if err := d.call(ctx, http.MethodPost, "/collections", admin, map[string]any{
			"collection": name, "schema": map[string]any{}, "meta": map[string]any{},
			"fields": []any{
				field("id", "integer", map[string]any{"hidden": true, "readonly": true},
					map[string]any{"is_primary_key": true, "has_auto_increment": true}),
				field("date_created", "timestamp", map[string]any{"special": []string{"date-created"}}, map[string]any{}),
				field(fieldText, "string", map[string]any{}, map[string]any{}),
				field(fieldUser, "string", map[string]any{}, map[string]any{}),
			},
		}, nil); err != nil {
			return fmt.Errorf("create collection %s: %w", name, err)
		}
		for _, action := range []string{"read", "create", "update", "delete"} {
			perms = append(perms, map[string]any{"policy": policies[0].ID, "collection": name, "action": action,
				"fields": []string{"*"}, "permissions": map[string]any{}, "validation": map[string]any{}})
		}
	}
	if err := d.call(ctx, http.MethodPost, "/permissions", admin, perms, nil); err != nil {
		return fmt.Errorf("grant the bot's policy the bench collections: %w", err)
	}
	return nil
}

// createOne creates one item as the bot and returns its primary key.
func (d *directus) createOne(ctx context.Context, collection string, item map[string]any) (string, error) {
	var created map[string]any
	if err := d.callRetrying(ctx, http.MethodPost, "/items/"+collection, d.Token(), item, &created); err != nil {
		return "", err
	}
	id, ok := created["id"]
	if !ok {
		return "", fmt.Errorf("POST /items/%s answered without an id", collection)
	}
	return fmt.Sprint(id), nil
}

// createMany creates items in one request (Directus takes an array) and
// returns their primary keys.
func (d *directus) createMany(ctx context.Context, collection string, items []map[string]any) ([]string, error) {
	var created []map[string]any
	if err := d.callRetrying(ctx, http.MethodPost, "/items/"+collection, d.Token(), items, &created); err != nil {
		return nil, err
	}
	if len(created) != len(items) {
		return nil, fmt.Errorf("POST /items/%s created %d of %d items", collection, len(created), len(items))
	}
	keys := make([]string, 0, len(created))
	for _, it := range created {
		id, ok := it["id"]
		if !ok {
			return nil, fmt.Errorf("POST /items/%s answered an item without an id", collection)
		}
		keys = append(keys, fmt.Sprint(id))
	}
	return keys, nil
}
