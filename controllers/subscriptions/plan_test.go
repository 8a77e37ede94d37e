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
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

func TestSnapshotQuerySortsByTheKeyFieldOnlyWhenTheQueryNamesNoOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		query    string // "" is no query
		keyField string
		want     string // "" is no query
	}{
		{name: "no key field leaves no query alone", query: "", keyField: "", want: ""},
		{name: "no key field leaves the query as is", query: `{"fields":["title"]}`, keyField: "", want: `{"fields":["title"]}`},
		{name: "no query gets a sort by the key field", query: "", keyField: "id", want: `{"sort":["id"]}`},
		{name: "other keys are kept beside the added sort", query: `{"fields":["id","title"],"filter":{"status":{"_eq":"published"}},"limit":10}`, keyField: "id",
			want: `{"fields":["id","title"],"filter":{"status":{"_eq":"published"}},"limit":10,"sort":["id"]}`},
		{name: "a sort of the user's wins", query: `{"sort":["-date_created"],"limit":10}`, keyField: "id", want: `{"sort":["-date_created"],"limit":10}`},
		{name: "the key field is the one sorted by", query: `{}`, keyField: "slug", want: `{"sort":["slug"]}`},
		{name: "a query that is not an object is passed on untouched", query: `[1,2]`, keyField: "id", want: `[1,2]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p := queryPlan{keyField: tc.keyField}
			if tc.query != "" {
				p.query = json.RawMessage(tc.query)
			}
			got := p.snapshotQuery()
			if tc.want == "" {
				g.Expect(got).To(BeEmpty())
				return
			}
			g.Expect(string(got)).To(MatchJSON(tc.want))
		})
	}
}

func TestSnapshotQueryDoesNotChangeThePlansQuery(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	p := queryPlan{query: json.RawMessage(`{"fields":["id"]}`), keyField: "id"}
	_ = p.snapshotQuery()
	g.Expect(string(p.query)).To(Equal(`{"fields":["id"]}`))
}

func TestKeysOfNamesItemsByTheKeyFieldAndSkipsThoseWithout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		items []string
		field string
		want  []string
	}{
		{name: "no items", items: nil, field: "id", want: []string{}},
		{name: "numbers and strings become text, in order", items: []string{`{"id":3}`, `{"id":"abc"}`, `{"id":1.5}`}, field: "id", want: []string{"3", "abc", "1.5"}},
		{name: "the key field named is the one used", items: []string{`{"id":1,"slug":"hello"}`}, field: "slug", want: []string{"hello"}},
		{name: "items without the key field are left unnamed", items: []string{`{"id":1}`, `{"title":"x"}`, `{"id":null}`, `{"id":2}`}, field: "id", want: []string{"1", "2"}},
		{name: "keys that are objects are left unnamed", items: []string{`{"id":{"a":1}}`, `{"id":7}`}, field: "id", want: []string{"7"}},
		{name: "items that are not objects are left unnamed", items: []string{`42`, `{"id":8}`}, field: "id", want: []string{"8"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			items := make([]json.RawMessage, len(tc.items))
			for i, s := range tc.items {
				items[i] = json.RawMessage(s)
			}
			g.Expect(keysOf(items, tc.field)).To(Equal(tc.want))
		})
	}
}

// fieldsServer answers GET /fields/<collection> like Directus: with the
// collection's fields, or with status when it is not 200.
func fieldsServer(t *testing.T, status int, primaryKey string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/fields/messages" || status != http.StatusOK {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"errors":[{"message":"You don't have permission to access this.","extensions":{"code":"FORBIDDEN"}}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":[{"field":"title","schema":{"is_primary_key":false}},{"field":"` + primaryKey + `","schema":{"is_primary_key":true}}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// newTestConnection returns an unstarted connection to url with a token.
func newTestConnection(t *testing.T, url string) *Connection {
	t.Helper()
	c, err := NewConnection(ConnectionOptions{Realtime: realtime.Options{Server: realtime.Server{URL: url, Auth: realtime.Auth{AccessToken: "test-static-token"}}}, Log: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestMakePlanWithTheKeyFieldShapesTheQuery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		query     string // "" is no query
		wantQuery string // "" is no query
		wantStrip bool
		wantWin   bool
	}{
		{name: "no query stays no query", query: "", wantQuery: ""},
		{name: "fields without the key field get it, and it is stripped from items",
			query: `{"fields":["title"],"filter":{"a":{"_eq":1}}}`, wantQuery: `{"fields":["title","slug"],"filter":{"a":{"_eq":1}}}`, wantStrip: true},
		{name: "fields with the key field stay as written", query: `{"fields":["slug","title"]}`, wantQuery: `{"fields":["slug","title"]}`},
		{name: "the * wildcard includes the key field", query: `{"fields":["*"]}`, wantQuery: `{"fields":["*"]}`},
		{name: "*.* includes every top-level field too", query: `{"fields":["*.*"]}`, wantQuery: `{"fields":["*.*"]}`},
		{name: "*.author includes every top-level field too", query: `{"fields":["title","*.author"]}`, wantQuery: `{"fields":["title","*.author"]}`},
		{name: "a limit makes a window", query: `{"limit":10}`, wantQuery: `{"limit":10}`, wantWin: true},
		{name: "limit -1 is no window", query: `{"limit":-1}`, wantQuery: `{"limit":-1}`},
		{name: "a window with fields gets the key field too",
			query: `{"fields":["title"],"limit":5}`, wantQuery: `{"fields":["title","slug"],"limit":5}`, wantStrip: true, wantWin: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var q json.RawMessage
			if tc.query != "" {
				q = json.RawMessage(tc.query)
			}
			p, err := makePlan(q, "slug", planInput{keyField: "slug", storesItems: true})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(p.keyField).To(Equal("slug"))
			g.Expect(p.strip).To(Equal(tc.wantStrip))
			g.Expect(p.refresh).To(Equal(tc.wantWin))
			if tc.wantQuery == "" {
				g.Expect(p.query).To(BeEmpty())
			} else {
				g.Expect(string(p.query)).To(MatchJSON(tc.wantQuery))
			}
			if tc.query != "" {
				g.Expect(string(q)).To(Equal(tc.query), "the configured query is not modified")
			}
		})
	}
}

func TestMakePlanWithoutAKeyFieldUsesThePrimaryKey(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	p, err := makePlan(json.RawMessage(`{"fields":["title"]}`), "uuid", planInput{storesItems: true})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.keyField).To(Equal("uuid"))
	g.Expect(string(p.query)).To(MatchJSON(`{"fields":["title","uuid"]}`))
	g.Expect(p.strip).To(BeTrue())
}

func TestPrimaryKeyIsReadOnceAndFallsBackToIDWhenItCannotBeRead(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	var calls atomic.Int32
	srv := fieldsServer(t, http.StatusForbidden, "")
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(counting.Close)
	c := newTestConnection(t, counting.URL)
	for range 3 {
		pk, err := c.primaryKey(context.Background(), "messages")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pk).To(Equal("id"))
	}
	g.Expect(calls.Load()).To(Equal(int32(1)), "the connection asks once per collection")
}

func TestPrimaryKeyIsTheFieldDirectusMarks(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	c := newTestConnection(t, fieldsServer(t, http.StatusOK, "uuid").URL)
	pk, err := c.primaryKey(context.Background(), "messages")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pk).To(Equal("uuid"))
}

func TestPrimaryKeyReturnsANetworkErrorSoTheRunnerRetries(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, err := newTestConnection(t, url).primaryKey(context.Background(), "messages")
	g.Expect(err).To(HaveOccurred())
	g.Expect(isNetworkError(err)).To(BeTrue())
}

func TestMakePlanKeyedByAnotherFieldThanThePrimaryKeyRefreshesFromFullReads(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	p, err := makePlan(nil, "id", planInput{keyField: "slug", storesItems: true})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.keyField).To(Equal("slug"))
	g.Expect(p.refresh).To(BeTrue(), "deletes name primary keys, not slugs")

	p, err = makePlan(nil, "id", planInput{keyField: "id", storesItems: true})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.refresh).To(BeFalse(), "an explicit id is the primary key")
}

func TestMakePlanForTheEventsTargetLeavesFieldsAlone(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	p, err := makePlan(json.RawMessage(`{"fields":["title"],"limit":3}`), "id", planInput{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.keyField).To(Equal("id"))
	g.Expect(string(p.query)).To(Equal(`{"fields":["title"],"limit":3}`))
	g.Expect(p.strip).To(BeFalse())
	g.Expect(p.refresh).To(BeTrue())
}

func TestMakePlanRefusesAQueryThatIsNotAnObject(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	_, err := makePlan(json.RawMessage(`["title"]`), "id", planInput{keyField: "id", storesItems: true})
	g.Expect(err).To(MatchError(ContainSubstring("query is not a JSON object")))
}

func TestEveryRunnerOfANewConnectionAsksForThePrimaryKeyWithOneRequest(t *testing.T) {
	g := NewWithT(t)
	var lookups atomic.Int32
	answer := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		<-answer // every runner asks while the first answer is on its way
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[{"field":"slug","schema":{"is_primary_key":true}}]}`))
	}))
	t.Cleanup(srv.Close)
	release := sync.OnceFunc(func() { close(answer) })
	t.Cleanup(release) // before srv.Close, which waits for the handlers
	c := newTestConnection(t, srv.URL)

	const runners = 200
	got := make(chan string, runners)
	for range runners {
		go func() {
			pk, err := c.primaryKey(context.Background(), "messages")
			if err != nil {
				pk = err.Error()
			}
			got <- pk
		}()
	}
	g.Eventually(lookups.Load).Should(BeNumerically(">=", 1))
	g.Consistently(lookups.Load, "100ms").Should(BeEquivalentTo(1), "the others wait for the first answer")
	release()
	for range runners {
		g.Expect(<-got).To(Equal("slug"))
	}
	g.Expect(lookups.Load()).To(BeEquivalentTo(1), "one request for all of them")
	pk, err := c.primaryKey(context.Background(), "messages")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pk).To(Equal("slug"))
	g.Expect(lookups.Load()).To(BeEquivalentTo(1), "and none once it is known")
}

func TestAFullReadGoesOverTheSocketWhenItIsUpAndOverRESTWhenItIsNot(t *testing.T) {
	g := NewWithT(t)
	dx := fakedirectus.New(fakedirectus.Options{})
	t.Cleanup(dx.Close)
	dx.AddCollection("messages", "id", "text", "user")
	dx.AddUser(fakedirectus.User{Email: "bot@example.com", Password: "pw", StaticToken: "bot-token", Read: []string{"messages"}})
	dx.SetSilently("messages", map[string]any{"text": "a", "user": "u"}, map[string]any{"text": "b", "user": "u"})
	c, err := NewConnection(ConnectionOptions{Realtime: realtime.Options{Server: realtime.Server{URL: dx.URL(), Auth: realtime.Auth{AccessToken: "bot-token"}}}, Log: logr.Discard()})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(c.Close)
	socketReads := func() int {
		n := 0
		for _, f := range dx.Frames() {
			if f.FromClient && f.Type() == "items" {
				n++
			}
		}
		return n
	}
	query := json.RawMessage(`{"filter":{"user":{"_eq":"u"}}}`)

	rows, err := c.readAll(context.Background(), "messages", query, "id")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(HaveLen(2), "no socket yet: over REST")
	g.Expect(socketReads()).To(BeZero())

	c.Start(context.Background())
	g.Eventually(func() v1alpha1.ConnectionState { return c.Status().State }, "5s").Should(Equal(v1alpha1.ConnectionStateConnected))
	rows, err = c.readAll(context.Background(), "messages", query, "id")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(HaveLen(2))
	g.Expect(socketReads()).To(Equal(1), "one page, over the socket")
}
