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
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// endless answers 200 with a JSON body that never ends, counting what it wrote, until the
// client stops reading.
type endless struct {
	mu      sync.Mutex
	written int64
}

func (e *endless) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if _, err := io.WriteString(w, `{"data":[`); err != nil {
		return
	}
	chunk := []byte(strings.Repeat(`{"id":1,"text":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},`, 1000))
	for r.Context().Err() == nil {
		n, err := w.Write(chunk)
		e.mu.Lock()
		e.written += int64(n)
		e.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func TestRESTStopsReadingAnAnswerOverMaxResponseBytes(t *testing.T) {
	g := NewWithT(t)
	srv := httptest.NewServer(&endless{})
	defer srv.Close()
	r, err := NewREST(RESTOptions{Server: Server{URL: srv.URL, Auth: Auth{AccessToken: "t"}}, MaxResponseBytes: 1 << 20})
	g.Expect(err).NotTo(HaveOccurred())
	var out json.RawMessage
	err = r.Do(context.Background(), http.MethodGet, "/items/messages", nil, &out)
	g.Expect(err).To(MatchError(ErrResponseTooLarge))
	var tl *ResponseTooLargeError
	g.Expect(errors.As(err, &tl)).To(BeTrue())
	g.Expect(*tl).To(Equal(ResponseTooLargeError{Request: "GET /items/messages", Limit: 1 << 20}))
	g.Expect(err.Error()).To(Equal("directus: GET /items/messages: response larger than 1048576 bytes"))
}

func TestRESTDefaultsMaxResponseBytesTo64MiB(t *testing.T) {
	g := NewWithT(t)
	r, err := NewREST(RESTOptions{Server: Server{URL: "http://directus.cms.svc:8055"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.o.MaxResponseBytes).To(BeEquivalentTo(64 << 20))
}

func TestRESTFullReadsStopWhenTheirPagesTogetherExceedMaxResponseBytes(t *testing.T) {
	s := fake(t, fakedirectus.Options{})
	seed(s, 1500)
	// One page of 500 items is about 20 KB: each page fits, three of them do not.
	r, err := NewREST(RESTOptions{Server: Server{URL: s.URL(), Auth: Auth{AccessToken: "bot-static-token"}}, MaxResponseBytes: 40 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() ([]json.RawMessage, error){
		"ReadAll": func() ([]json.RawMessage, error) {
			return r.ReadAll(context.Background(), "messages", nil, ReadOptions{})
		},
		"ReadAllByKey": func() ([]json.RawMessage, error) {
			return r.ReadAll(context.Background(), "messages", nil, ReadOptions{Key: "id"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rows, err := read()
			g.Expect(err).To(MatchError(ErrResponseTooLarge))
			g.Expect(rows).To(BeNil())
			var tl *ResponseTooLargeError
			g.Expect(errors.As(err, &tl)).To(BeTrue())
			g.Expect(tl.Total).To(BeTrue())
			g.Expect(err.Error()).To(ContainSubstring("the pages of the full read exceed 40960 bytes together"))
		})
	}
}

func TestLoginAnswerOverOneMiBIsRefused(t *testing.T) {
	g := NewWithT(t)
	srv := httptest.NewServer(&endless{})
	defer srv.Close()
	r, err := NewREST(RESTOptions{Server: Server{URL: srv.URL, Auth: Auth{Email: "bot@example.com", Password: "bot-password"}}})
	g.Expect(err).NotTo(HaveOccurred())
	err = r.Do(context.Background(), http.MethodGet, "/items/messages", nil, nil)
	g.Expect(err).To(MatchError(ErrResponseTooLarge))
	g.Expect(err.Error()).To(ContainSubstring("POST /auth/login: response larger than 1048576 bytes"))
	g.Expect(err.Error()).NotTo(ContainSubstring("bot-password"))
}

// elsewhere is another server that records every request that reaches it.
type elsewhere struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newElsewhere(t *testing.T) *elsewhere {
	t.Helper()
	e := &elsewhere{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.seen = append(e.seen, r.Method+" "+r.URL.String()+" "+r.Header.Get("Authorization")+" "+string(b))
		e.mu.Unlock()
		_, _ = io.WriteString(w, `{"data":{"access_token":"stolen","refresh_token":"stolen","expires":900000}}`)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *elsewhere) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

// redirector answers every request with code and a Location on target, keeping path and
// query, as a misconfigured or hostile proxy would.
func redirector(t *testing.T, code int, target string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.RequestURI(), code)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRESTRefusesRedirectsToAnotherHost(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		auth Auth
	}{
		{"a static token on a GET (302)", http.StatusFound, Auth{AccessToken: "bot-static-token"}},
		{"a password in a login body (307 re-sends it)", http.StatusTemporaryRedirect, Auth{Email: "bot@example.com", Password: "bot-password"}},
		{"a password in a login body (308 re-sends it)", http.StatusPermanentRedirect, Auth{Email: "bot@example.com", Password: "bot-password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			evil := newElsewhere(t)
			// localhost and 127.0.0.1 are different hosts to the client.
			front := redirector(t, tc.code, strings.Replace(evil.URL, "127.0.0.1", "localhost", 1))
			r, err := NewREST(RESTOptions{Server: Server{URL: front.URL, Auth: tc.auth}})
			g.Expect(err).NotTo(HaveOccurred())
			err = r.Do(context.Background(), http.MethodGet, "/items/messages", nil, nil)
			g.Expect(err).To(MatchError(ErrRedirectRefused))
			g.Expect(err.Error()).To(ContainSubstring("set the url to the final address"))
			g.Expect(err.Error()).NotTo(ContainSubstring("bot-password"))
			g.Expect(evil.requests()).To(BeEmpty(), "credentials were carried to another host")
		})
	}
}

func TestRedirectsWithinTheHostAreFollowed(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	seed(s, 3)
	mux := http.NewServeMux()
	target, _ := url.Parse(s.URL())
	proxy := func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.String()+strings.TrimPrefix(r.URL.RequestURI(), "/new"), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}
	mux.HandleFunc("/new/", proxy)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new"+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
	front := httptest.NewServer(mux)
	defer front.Close()
	r, err := NewREST(RESTOptions{Server: Server{URL: front.URL, Auth: Auth{AccessToken: "bot-static-token"}}})
	g.Expect(err).NotTo(HaveOccurred())
	rows, err := r.ReadAll(context.Background(), "messages", json.RawMessage(`{"sort":["id"]}`), ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(HaveLen(3))
}

func TestRedirectPolicy(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"http://d.example.com/items/a", "http://d.example.com/items/b", true},
		{"http://d.example.com/items/a", "https://d.example.com/items/a", true},
		{"http://D.example.com:8055/x", "http://d.example.com:8055/y", true},
		{"https://d.example.com/x", "https://d.example.com:443/y", true},
		{"https://d.example.com/x", "http://d.example.com/x", false},
		{"http://d.example.com:8055/x", "https://d.example.com/x", false},
		{"http://d.example.com/x", "http://evil.example.com/x", false},
		{"https://d.example.com/x", "https://d.example.com.evil.example/x", false},
		{"http://127.0.0.1:1/x", "http://127.0.0.1:2/x", false},
	} {
		from, _ := url.Parse(tc.from)
		to, _ := url.Parse(tc.to)
		err := sameHostRedirects(&http.Request{URL: to}, []*http.Request{{URL: from}})
		if (err == nil) != tc.ok {
			t.Errorf("%s -> %s: got %v, want allowed=%v", tc.from, tc.to, err, tc.ok)
		}
	}
}

func TestACallersHTTPClientGetsTheRedirectPolicyWithoutBeingChanged(t *testing.T) {
	g := NewWithT(t)
	evil := newElsewhere(t)
	front := redirector(t, http.StatusFound, strings.Replace(evil.URL, "127.0.0.1", "localhost", 1))
	mine := &http.Client{}
	r, err := NewREST(RESTOptions{Server: Server{URL: front.URL, Auth: Auth{AccessToken: "t"}, HTTPClient: mine}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.Do(context.Background(), http.MethodGet, "/items/messages", nil, nil)).To(MatchError(ErrRedirectRefused))
	g.Expect(mine.CheckRedirect).To(BeNil())
	g.Expect(evil.requests()).To(BeEmpty())
}

func TestTheWebSocketUpgradeIsNotRedirectedToAnotherHost(t *testing.T) {
	g := NewWithT(t)
	evil := newElsewhere(t)
	front := redirector(t, http.StatusFound, strings.Replace(evil.URL, "127.0.0.1", "localhost", 1))
	c, err := New(Options{Server: Server{URL: front.URL, Auth: Auth{AccessToken: "bot-static-token"}}, AuthMode: AuthStrict, Reconnect: ReconnectOptions{Disabled: true}})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err = c.Connect(ctx)
	g.Expect(err).To(MatchError(ErrRedirectRefused))
	g.Expect(err.Error()).NotTo(ContainSubstring("bot-static-token"))
	g.Expect(evil.requests()).To(BeEmpty(), "the token in the upgrade URL was carried to another host")
}
