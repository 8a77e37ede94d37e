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

package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// onePage answers the first GET /items with body and every later one with an empty page,
// as a server would whose collection fits in one page; /fields names id as the primary key.
type onePage struct {
	body   []byte
	served atomic.Bool
}

func (o *onePage) RoundTrip(r *http.Request) (*http.Response, error) {
	body := []byte(`{"data":[]}`)
	switch {
	case strings.HasPrefix(r.URL.Path, "/fields/"):
		body = []byte(`{"data":[{"field":"id","schema":{"is_primary_key":true}}]}`)
	case o.served.CompareAndSwap(false, true):
		body = o.body
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
}

// FuzzReadAllDecodesAnyPage checks that a full read never panics on whatever a server
// answers and whatever query it is given, that every item it returns is valid JSON, and that
// it returns no more items than the query's limit.
func FuzzReadAllDecodesAnyPage(f *testing.F) {
	for _, seed := range []struct{ page, query string }{
		{`{"data":[{"id":1,"text":"Hello World!","user":"Ben"},{"id":2,"text":"hi","user":"alice"}]}`, `{"fields":["id","text"]}`},
		{`{"data":[{"id":1},{"id":2},{"id":3}]}`, `{"limit":2,"sort":["-id"]}`},
		{`{"data":[{"id":"a"},{"id":null}]}`, `{"filter":{"user":{"_eq":"Ben"}},"offset":"1"}`},
		{`{"data":[]}`, `null`},
		{`{"data":null,"meta":{"total_count":0}}`, ``},
		{`{"data":{"id":1}}`, `{"limit":-1}`},
		{`{"data":[1,"x",null,[],{}]}`, `{"deep":{"author":{"_limit":1}},"alias":{"a":"b"}}`},
		{`{"errors":[{"message":"no","extensions":{"code":"FORBIDDEN"}}]}`, `{"limit":1.5}`},
		{`not json`, `[1]`},
		{``, `{"limit":"ten"}`},
	} {
		f.Add([]byte(seed.page), seed.query)
	}
	f.Fuzz(func(t *testing.T, page []byte, query string) {
		for _, byKey := range []bool{false, true} {
			r, err := NewREST(RESTOptions{
				Server: Server{
					URL:        "http://directus.test",
					Auth:       Auth{AccessToken: "t"},
					HTTPClient: &http.Client{Transport: &onePage{body: page}},
				},
				PageSize:         2,
				MaxResponseBytes: 1 << 16,
			})
			if err != nil {
				t.Fatal(err)
			}
			var rows []json.RawMessage
			if byKey {
				rows, err = r.ReadAll(context.Background(), "messages", json.RawMessage(query), ReadOptions{Key: "id"})
			} else {
				rows, err = r.ReadAll(context.Background(), "messages", json.RawMessage(query), ReadOptions{})
			}
			if err != nil {
				continue
			}
			for _, row := range rows {
				if !json.Valid(row) {
					t.Fatalf("ReadAll returned an item that is not JSON: %q", row)
				}
			}
			var q struct {
				Limit *int `json:"limit"`
			}
			if !byKey && json.Unmarshal([]byte(query), &q) == nil && q.Limit != nil && *q.Limit >= 0 && len(rows) > *q.Limit {
				t.Fatalf("ReadAll returned %d items for limit %d", len(rows), *q.Limit)
			}
		}
	})
}
