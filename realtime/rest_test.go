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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// countingTransport counts GET /items requests.
type countingTransport struct {
	items atomic.Int32
	base  http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/items/") {
		c.items.Add(1)
	}
	return c.base.RoundTrip(r)
}

func restClient(t *testing.T, s *fakedirectus.Server, auth Auth) (*REST, *countingTransport) {
	t.Helper()
	ct := &countingTransport{base: http.DefaultTransport}
	r, err := NewREST(RESTOptions{Server: Server{URL: s.URL(), Auth: auth, HTTPClient: &http.Client{Transport: ct}}})
	if err != nil {
		t.Fatal(err)
	}
	return r, ct
}

func seed(s *fakedirectus.Server, n int) {
	items := make([]map[string]any, n)
	for i := range items {
		user := "bob"
		if i%3 == 0 {
			user = "alice"
		}
		items[i] = map[string]any{"text": fmt.Sprint("m", i+1), "user": user}
	}
	s.SetSilently("messages", items...)
}

func ids(t *testing.T, rows []json.RawMessage) []int {
	t.Helper()
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = int(field(t, r, "id").(float64))
	}
	return out
}

func TestRESTReadAllPagesThroughEverything(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	seed(s, 1500)
	r, ct := restClient(t, s, Auth{AccessToken: "bot-static-token"})
	rows, err := r.ReadAll(context.Background(), "messages", json.RawMessage(`{"fields":["id","text"]}`), ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(HaveLen(1500))
	got := ids(t, rows)
	for i, id := range got {
		if id != i+1 {
			t.Fatalf("row %d has id %d: pages are not sorted by the primary key", i, id)
		}
	}
	g.Expect(rows[0]).To(MatchJSON(`{"id":1,"text":"m1"}`))
	g.Expect(ct.items.Load()).To(BeEquivalentTo(4), "3 full pages of 500 and an empty one")
}

// afterFirstPage runs fn once, when the first page of items has been
// answered: a write that lands between two pages of a read.
type afterFirstPage struct {
	base http.RoundTripper
	once sync.Once
	fn   func()
}

func (a *afterFirstPage) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.base.RoundTrip(r)
	if err == nil && strings.Contains(r.URL.Path, "/items/") {
		a.once.Do(a.fn)
	}
	return resp, err
}

func TestRESTReadByKeyMissesNoItemWhenAnEarlierOneIsDeletedBetweenPages(t *testing.T) {
	read := func(byKey bool) []int {
		s := fake(t, fakedirectus.Options{})
		seed(s, 1200)
		tr := &afterFirstPage{base: http.DefaultTransport, fn: func() { s.DeleteSilently("messages", 1) }}
		r, err := NewREST(RESTOptions{Server: Server{URL: s.URL(), Auth: Auth{AccessToken: "bot-static-token"}, HTTPClient: &http.Client{Transport: tr}}})
		if err != nil {
			t.Fatal(err)
		}
		q := json.RawMessage(`{"fields":["id","text"],"filter":{"text":{"_contains":"m"}}}`)
		var rows []json.RawMessage
		if byKey {
			rows, err = r.ReadAll(context.Background(), "messages", q, ReadOptions{Key: "id"})
		} else {
			rows, err = r.ReadAll(context.Background(), "messages", json.RawMessage(`{"fields":["id","text"],"sort":["id"]}`), ReadOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		return ids(t, rows)
	}
	g := NewWithT(t)
	byKey := read(true)
	g.Expect(byKey).To(HaveLen(1200), "item 1 was read before it was deleted, and nothing else is lost")
	g.Expect(byKey).To(ContainElement(501), "the item at the page boundary is not skipped")
	byOffset := read(false)
	g.Expect(byOffset).NotTo(ContainElement(501), "limit/offset paging skips it: why ReadOptions.Key exists")
}

func TestRESTReadByKeyNeedsTheKeyInTheFields(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	seed(s, 600)
	r, _ := restClient(t, s, Auth{AccessToken: "bot-static-token"})
	_, err := r.ReadAll(context.Background(), "messages", json.RawMessage(`{"fields":["text"]}`), ReadOptions{Key: "id"})
	g.Expect(err).To(MatchError(ContainSubstring(`lack the key field "id"`)))
}

func TestRESTReadAllHonoursLimitFilterAndSort(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	seed(s, 1500)
	r, ct := restClient(t, s, Auth{AccessToken: "bot-static-token"})

	rows, err := r.ReadAll(context.Background(), "messages", json.RawMessage(`{"fields":["id"],"limit":1234}`), ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(HaveLen(1234))
	g.Expect(ct.items.Load()).To(BeEquivalentTo(3))

	rows, err = r.ReadAll(context.Background(), "messages", json.RawMessage(`{"fields":["id","user"],"filter":{"_and":[{"user":{"_eq":"alice"}},{"id":{"_gt":1400}}]},"sort":["-id"]}`), ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	got := ids(t, rows)
	g.Expect(got).To(HaveLen(33))
	g.Expect(got[0]).To(Equal(1498))
	g.Expect(got[len(got)-1]).To(Equal(1402))

	rows, err = r.ReadAll(context.Background(), "messages", json.RawMessage(`{"search":"m150","fields":["id"]}`), ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ids(t, rows)).To(Equal([]int{150, 1500}))
}

func TestRESTPrimaryKeyAndTypedErrors(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	s.AddCollection("things", "slug", "name")
	s.AddUser(fakedirectus.User{StaticToken: "things-token", Read: []string{"things"}, ReadFields: true})
	r, _ := restClient(t, s, Auth{AccessToken: "things-token"})
	pk, err := r.PrimaryKey(context.Background(), "things")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pk).To(Equal("slug"))

	// A plain API user may not read directus_fields (as on a real
	// Directus 12): the lookup is refused, but reading still works.
	s.AddUser(fakedirectus.User{StaticToken: "api-token", Read: []string{"things"}})
	s.SetSilently("things", map[string]any{"slug": "b", "name": "B"}, map[string]any{"slug": "a", "name": "A"})
	api, _ := restClient(t, s, Auth{AccessToken: "api-token"})
	_, err = api.PrimaryKey(context.Background(), "things")
	g.Expect(IsCode(err, CodeForbidden)).To(BeTrue(), "%v", err)
	rows, err := api.ReadAll(context.Background(), "things", nil, ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(HaveLen(2))

	_, err = r.PrimaryKey(context.Background(), "secrets")
	var se *ServerError
	g.Expect(err).To(BeAssignableToTypeOf(se))
	g.Expect(errors.As(err, &se)).To(BeTrue())
	g.Expect(se.Code).To(Equal(CodeForbidden))
	g.Expect(se.StatusCode).To(Equal(http.StatusForbidden))

	bad, _ := restClient(t, s, Auth{AccessToken: "nope"})
	_, err = bad.ReadAll(context.Background(), "things", nil, ReadOptions{})
	g.Expect(IsCode(err, CodeInvalidCredentials)).To(BeTrue(), "%v", err)
}

func TestRESTLogsInOnceAndAgainAfter401(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	seed(s, 3)
	r, _ := restClient(t, s, Auth{Email: "bot@example.com", Password: "bot-password"})
	var rows []map[string]any
	g.Expect(r.Do(context.Background(), http.MethodGet, "/items/messages?fields=id", nil, &rows)).To(Succeed())
	g.Expect(rows).To(HaveLen(3))
	g.Expect(r.Do(context.Background(), http.MethodGet, "/items/messages", nil, &rows)).To(Succeed())
	g.Expect(s.Logins()).To(Equal(1), "the access token is cached")

	r.mu.Lock()
	access := r.access
	r.mu.Unlock()
	s.RevokeToken(access)
	var created map[string]any
	g.Expect(r.Do(context.Background(), http.MethodPost, "/items/messages", map[string]any{"text": "x"}, &created)).To(Succeed())
	g.Expect(created["text"]).To(Equal("x"))
	g.Expect(s.Logins()).To(Equal(1), "refreshed with the refresh token, no second login")

	// Expired cache: the refresh token is used, and it rotates.
	r.mu.Lock()
	r.access = ""
	before := r.refresh
	r.mu.Unlock()
	g.Expect(r.Do(context.Background(), http.MethodGet, "/items/messages", nil, nil)).To(Succeed())
	r.mu.Lock()
	g.Expect(r.refresh).NotTo(Equal(before))
	r.mu.Unlock()
	g.Expect(s.Logins()).To(Equal(1))
}
