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
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// writeStats are the ConfigMap writes one client sent through the proxy.
type writeStats struct {
	requests int64            // PUT, PATCH and POST requests
	bytes    int64            // their bodies, as sent
	byCode   map[int]int64    // requests by the API server's status code
	byVerb   map[string]int64 // requests by method
}

func (s writeStats) minus(o writeStats) writeStats {
	d := writeStats{requests: s.requests - o.requests, bytes: s.bytes - o.bytes, byCode: map[int]int64{}, byVerb: map[string]int64{}}
	for k, v := range s.byCode {
		if v -= o.byCode[k]; v != 0 {
			d.byCode[k] = v
		}
	}
	for k, v := range s.byVerb {
		if v -= o.byVerb[k]; v != 0 {
			d.byVerb[k] = v
		}
	}
	return d
}

// countingProxy is a plain-http reverse proxy on loopback in front of the
// API server. The operator and the naive mirror talk to the API server
// through it, so the harness can count the bytes of every ConfigMap write
// (request bodies), by ConfigMap name, whatever verb or encoding the
// client uses. It forwards with the credentials of the user it was made
// for, over the API server's usual TLS.
type countingProxy struct {
	url string
	srv *http.Server

	mu       sync.Mutex
	writes   map[string]*writeStats // by ConfigMap name ("" for creates by POST)
	inflight int                    // ConfigMap writes not answered yet
	answered chan struct{}          // closed and replaced when one is answered
}

func startProxy(upstream *rest.Config) (*countingProxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, err
	}
	rt, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{url: "http://" + l.Addr().String(), writes: map[string]*writeStats{}, answered: make(chan struct{})}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     rt,
		FlushInterval: -1,                         // watches stream
		ErrorLog:      log.New(io.Discard, "", 0), // a watch the client ends is not news
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := configMapWrite(r)
		if !ok {
			rp.ServeHTTP(w, r)
			return
		}
		// The body is read and counted before it is forwarded, so a write
		// is counted before the API server can commit it (and before the
		// harness can see it in a watch).
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		s := p.entry(name)
		p.mu.Lock()
		s.requests++
		s.bytes += int64(len(body))
		s.byVerb[r.Method]++
		p.inflight++
		p.mu.Unlock()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		rp.ServeHTTP(sw, r)
		p.mu.Lock()
		s.byCode[sw.code]++
		p.inflight--
		close(p.answered)
		p.answered = make(chan struct{})
		p.mu.Unlock()
	})}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

func (p *countingProxy) Close() { _ = p.srv.Close() }

func (p *countingProxy) entry(name string) *writeStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.writes[name]
	if s == nil {
		s = &writeStats{byCode: map[int]int64{}, byVerb: map[string]int64{}}
		p.writes[name] = s
	}
	return s
}

// settle waits (at most timeout) until every ConfigMap write has been
// answered, so that a sample's status codes match its requests.
func (p *countingProxy) settle(timeout time.Duration) {
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		n, ch := p.inflight, p.answered
		p.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			return
		}
	}
}

// stats returns a copy of the writes to ConfigMap name so far.
func (p *countingProxy) stats(name string) writeStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := writeStats{byCode: map[int]int64{}, byVerb: map[string]int64{}}
	if s := p.writes[name]; s != nil {
		c.requests, c.bytes = s.requests, s.bytes
		maps.Copy(c.byCode, s.byCode)
		maps.Copy(c.byVerb, s.byVerb)
	}
	return c
}

// configMapWrite tells whether r writes a ConfigMap
// (/api/v1/namespaces/<ns>/configmaps[/<name>]) and which.
func configMapWrite(r *http.Request) (string, bool) {
	switch r.Method {
	case http.MethodPut, http.MethodPatch, http.MethodPost:
	default:
		return "", false
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 5 || parts[0] != "api" || parts[1] != "v1" || parts[2] != "namespaces" || parts[4] != "configmaps" {
		return "", false
	}
	switch len(parts) {
	case 5:
		return "", true
	case 6:
		return parts[5], true
	}
	return "", false // a subresource
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// kubeconfigFor is a kubeconfig for a server that needs no credentials
// (the proxy).
func kubeconfigFor(server string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: %s
users:
- name: bench
  user: {}
contexts:
- name: bench
  context:
    cluster: bench
    user: bench
current-context: bench
`, server)
}
