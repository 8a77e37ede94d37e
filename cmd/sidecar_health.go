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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
	"github.com/directus-operator/directus-operator/realtime"
)

// Roles of a sidecar that writes a ConfigMap with other replicas.
const (
	roleLeader  = "leader"
	roleStandby = "standby"
)

// reasonNoSnapshot is why a sidecar is not ready: the target has never held
// a complete snapshot.
const reasonNoSnapshot = "NoSnapshot"

// sidecarState is what the probes report: the mirror running now (none
// while standing by), the replica's role, and whether the target has held
// a complete snapshot.
type sidecarState struct {
	target string
	// held tells whether the target holds a complete snapshot that this
	// process did not write: one from an earlier run, or another replica's.
	held    func(ctx context.Context) bool
	changes chan struct{}

	mu     sync.Mutex
	runner *subscriptions.Runner
	conn   *subscriptions.Connection
	// token is the newest static access token, for the next connection.
	token  string
	role   string
	leader string
	// synced latches once this process wrote a complete snapshot.
	synced bool
}

func newSidecarState(target string, held func(context.Context) bool, token string) *sidecarState {
	return &sidecarState{target: target, held: held, token: token, changes: make(chan struct{}, 1)}
}

func (s *sidecarState) notify() {
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

// connect makes the connection of a mirror with the newest token.
func (s *sidecarState) connect(opts realtime.Options, log logr.Logger) (*subscriptions.Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if opts.Auth.AccessToken != "" {
		opts.Auth.AccessToken = s.token
	}
	conn, err := subscriptions.NewConnection(subscriptions.ConnectionOptions{Realtime: opts, Log: log})
	if err != nil {
		return nil, err
	}
	s.conn = conn
	return conn, nil
}

// setRunner records the mirror running now; nil when it stopped.
func (s *sidecarState) setRunner(r *subscriptions.Runner) {
	s.mu.Lock()
	s.runner = r
	if r == nil {
		s.conn = nil
	}
	s.mu.Unlock()
	s.notify()
}

func (s *sidecarState) setRole(role, leader string) {
	s.mu.Lock()
	s.role, s.leader = role, leader
	s.mu.Unlock()
	s.notify()
}

// standBy records that another replica (leader, when known) writes the
// ConfigMap. A late report of a past leader does not demote a running
// mirror: the election's own loop does when the lease is lost.
func (s *sidecarState) standBy(leader string) {
	s.mu.Lock()
	if s.runner != nil {
		s.mu.Unlock()
		return
	}
	s.role, s.leader = roleStandby, leader
	s.mu.Unlock()
	s.notify()
}

// setToken moves the live connection, if any, and every later one to a new
// static access token.
func (s *sidecarState) setToken(tok string) error {
	s.mu.Lock()
	s.token = tok
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	return conn.SetAccessToken(tok)
}

// view is one consistent reading of the state.
type view struct {
	running      bool
	st           subscriptions.Status
	role, leader string
	synced       bool
}

func (s *sidecarState) view() view {
	s.mu.Lock()
	r := s.runner
	s.mu.Unlock()
	var st subscriptions.Status
	if r != nil {
		st = r.Status()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !st.LastSync.IsZero() {
		s.synced = true
	}
	return view{running: r != nil, st: st, role: s.role, leader: s.leader, synced: s.synced}
}

// readiness is the body of /readyz. Ready means the target holds a complete
// snapshot, written at least once: the application has data to serve, the
// last good one while Directus is away. Directus's own state is on
// /healthz/directus and takes nothing away from readiness.
type readiness struct {
	Ready   bool     `json:"ready"`
	Reasons []string `json:"reasons,omitempty"`
	Target  string   `json:"target"`
	Items   int64    `json:"items"`
	Role    string   `json:"role,omitempty"`
	Leader  string   `json:"leader,omitempty"`
}

func (s *sidecarState) readiness(ctx context.Context) readiness {
	v := s.view()
	r := readiness{Ready: v.synced, Target: s.target, Items: v.st.Items, Role: v.role, Leader: v.leader}
	if !r.Ready && s.held != nil {
		r.Ready = s.held(ctx)
	}
	if !r.Ready {
		r.Reasons = append([]string{reasonNoSnapshot + ": " + s.target + " holds no complete snapshot yet"}, directusHealthOf(v).Reasons...)
	}
	return r
}

// directusHealth is the body of /healthz/directus: whether this sidecar is
// connected, subscribed and in sync, and if not why, in the condition
// reasons the operator uses. A replica standing by is healthy: another one
// writes the ConfigMap.
type directusHealth struct {
	Healthy    bool     `json:"healthy"`
	Reasons    []string `json:"reasons,omitempty"`
	Role       string   `json:"role,omitempty"`
	Leader     string   `json:"leader,omitempty"`
	Message    string   `json:"message,omitempty"`
	Connection string   `json:"connection,omitempty"`
	Subscribed bool     `json:"subscribed"`
	Synced     string   `json:"synced,omitempty"`
	LastSync   string   `json:"lastSync,omitempty"`
	LastError  string   `json:"lastError,omitempty"`
}

func directusHealthOf(v view) directusHealth {
	h := directusHealth{Role: v.role, Leader: v.leader}
	if !v.running && v.role == roleStandby {
		h.Healthy = true
		h.Message = "standing by: another replica writes the ConfigMap; this one connects to Directus when it takes over"
		return h
	}
	st := v.st
	h.Connection, h.Subscribed, h.Synced, h.LastError = string(st.ConnState), st.Subscribed, string(st.Synced), st.LastError
	if !st.LastSync.IsZero() {
		h.LastSync = st.LastSync.UTC().Format(time.RFC3339)
	}
	if !v.running {
		h.Reasons = []string{v1alpha1.ReasonConnecting + ": the mirror has not started"}
		return h
	}
	if st.ConnState != v1alpha1.ConnectionStateConnected {
		h.Reasons = append(h.Reasons, fmt.Sprintf("%s: %s", st.ConnReason, st.ConnMessage))
	}
	if !st.Subscribed {
		h.Reasons = append(h.Reasons, fmt.Sprintf("%s: %s", st.SubReason, st.SubMessage))
	}
	if st.Synced != metav1.ConditionTrue {
		h.Reasons = append(h.Reasons, fmt.Sprintf("%s: %s", st.SyncReason, st.SyncMessage))
	}
	h.Healthy = len(h.Reasons) == 0
	return h
}

// probeHandler serves /healthz (200 while the process runs), /readyz (200
// once the target holds a complete snapshot) and /healthz/directus (200
// while connected, subscribed and in sync, or standing by), each 503
// otherwise with a JSON body that says why.
func probeHandler(s *sidecarState) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		r := s.readiness(ctx)
		writeProbe(w, r.Ready, r)
	})
	mux.HandleFunc("/healthz/directus", func(w http.ResponseWriter, _ *http.Request) {
		h := directusHealthOf(s.view())
		writeProbe(w, h.Healthy, h)
	})
	return mux
}

func writeProbe(w http.ResponseWriter, ok bool, body any) {
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// logStates logs every change of readiness and of Directus's health, with
// the reasons, until ctx ends. The runner and the election say when
// something changed; nothing polls.
func logStates(ctx context.Context, log logr.Logger, s *sidecarState) {
	var lastReady *bool
	var lastHealth *directusHealth
	for {
		v := s.view()
		h := directusHealthOf(v)
		if lastHealth == nil || lastHealth.Healthy != h.Healthy || !slices.Equal(lastHealth.Reasons, h.Reasons) {
			switch {
			case h.Healthy && h.Role == roleStandby:
				// The election logs who leads.
			case h.Healthy:
				log.Info("Directus in sync", "target", s.target, "items", v.st.Items)
			default:
				log.Info("Directus not in sync; serving the last complete snapshot if there is one", "reasons", h.Reasons)
			}
			lastHealth = &h
		}
		if ready := v.synced; lastReady == nil || *lastReady != ready {
			if ready {
				log.Info("Sidecar ready: the target holds a complete snapshot", "target", s.target)
			}
			lastReady = &ready
		}
		select {
		case <-ctx.Done():
			return
		case <-s.changes:
		}
	}
}
