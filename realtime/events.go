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
	"sync"
	"time"

	"github.com/coder/websocket"
)

// State is the client's connection state.
type State int

const (
	// StateIdle: created, Connect not called (or the first Connect failed).
	StateIdle State = iota
	// StateConnecting: the first dial and auth are in progress.
	StateConnecting
	// StateConnected: connected and authenticated.
	StateConnected
	// StateReconnecting: the connection was lost; waiting or redialling.
	StateReconnecting
	// StateClosed: stopped for good (Close, or reconnecting gave up).
	StateClosed
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "Idle"
	case StateConnecting:
		return "Connecting"
	case StateConnected:
		return "Connected"
	case StateReconnecting:
		return "Reconnecting"
	case StateClosed:
		return "Closed"
	}
	return "Unknown"
}

// EventKind names a lifecycle event.
type EventKind string

const (
	// EventOpen: the WebSocket upgrade succeeded.
	EventOpen EventKind = "open"
	// EventAuthenticated: the socket is authenticated (also after each re-auth on an open socket).
	EventAuthenticated EventKind = "authenticated"
	// EventClose: a connection ended. CloseCode is the WebSocket close code (1005 when
	// Directus closed without one, 1006 when the connection just dropped) and Err the error
	// frame that preceded the close, if any, else the read error.
	EventClose EventKind = "close"
	// EventError: something went wrong that did not end the connection by itself (a bad
	// frame, a server error not tied to a request, a failed reconnect attempt).
	EventError EventKind = "error"
	// EventReconnecting: a reconnect attempt is scheduled after Delay.
	EventReconnecting EventKind = "reconnecting"
	// EventGaveUp: the client stopped reconnecting; Err wraps ErrGaveUp.
	EventGaveUp EventKind = "gave-up"
)

// Event is a lifecycle event passed to Options.OnEvent.
type Event struct {
	Kind        EventKind
	State       State
	Attempt     int
	Delay       time.Duration
	CloseCode   websocket.StatusCode
	CloseReason string
	Err         error
	// Epoch is the connection number the event belongs to.
	Epoch uint64
	Time  time.Time
}

// eventQueue delivers events to OnEvent from one goroutine, in order, never blocking the
// emitter. It holds at most maxQueuedEvents; beyond that new events are dropped.
type eventQueue struct {
	fn      func(Event)
	mu      sync.Mutex
	q       []Event
	notify  chan struct{}
	done    chan struct{}
	started bool
	stopped bool
	dropped int
}

const maxQueuedEvents = 1024

func newEventQueue(fn func(Event)) *eventQueue {
	return &eventQueue{fn: fn, notify: make(chan struct{}, 1), done: make(chan struct{})}
}

// emit queues ev; it reports false when the event was dropped.
func (e *eventQueue) emit(ev Event) bool {
	if e.fn == nil {
		return true
	}
	e.mu.Lock()
	if e.stopped || len(e.q) >= maxQueuedEvents {
		e.dropped++
		e.mu.Unlock()
		return false
	}
	if !e.started {
		e.started = true
		go e.run()
	}
	e.q = append(e.q, ev)
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
	return true
}

func (e *eventQueue) run() {
	defer close(e.done)
	for {
		e.mu.Lock()
		q := e.q
		e.q = nil
		stopped := e.stopped
		e.mu.Unlock()
		for _, ev := range q {
			e.fn(ev)
		}
		if len(q) > 0 {
			continue
		}
		if stopped {
			return
		}
		<-e.notify
	}
}

// close delivers what is queued, then stops the goroutine and waits for it. Events emitted
// afterwards are dropped.
func (e *eventQueue) close() {
	e.mu.Lock()
	e.stopped = true
	started := e.started
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
	if started {
		<-e.done
	}
}
