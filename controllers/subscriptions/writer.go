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
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
)

// mirrorWriter persists the mirror through a Store. Changes that arrive while a write is
// in flight are merged into the next write, so a burst costs a few writes
// and a lone change is written at once, with no timer holding it back.
type mirrorWriter struct {
	w     *worker
	store Store
	dirty chan struct{}
	// primed is set once the mirror holds a snapshot: writing before that
	// would empty a ConfigMap that consumers rely on.
	primed atomic.Bool

	mu      sync.Mutex
	pending []pendingChange
}

// pendingChange remembers when the change with mirror sequence seq arrived,
// for the event-to-write latency histogram.
type pendingChange struct {
	seq uint64
	at  time.Time
}

func newMirrorWriter(w *worker, store Store) *mirrorWriter {
	return &mirrorWriter{w: w, store: store, dirty: make(chan struct{}, 1)}
}

func (cw *mirrorWriter) prime() { cw.primed.Store(true) }

// changed records a change that arrived at `at` and wakes the writer.
func (cw *mirrorWriter) changed(at time.Time) {
	cw.mu.Lock()
	if len(cw.pending) < 100000 {
		cw.pending = append(cw.pending, pendingChange{seq: cw.w.mirror.Seq(), at: at})
	}
	cw.mu.Unlock()
	cw.kick()
}

// kick wakes the writer to compare the ConfigMap with the mirror, as after
// someone edited or deleted it.
func (cw *mirrorWriter) kick() {
	select {
	case cw.dirty <- struct{}{}:
	default:
	}
}

func (cw *mirrorWriter) run(ctx context.Context) {
	minInterval := cw.w.owner.opts.MinWriteInterval
	var last time.Time
	retry := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-cw.dirty:
		}
		if !cw.primed.Load() {
			continue
		}
		if wait := minInterval - time.Since(last); wait > 0 {
			if !sleep(ctx, wait) {
				return
			}
		}
		last = time.Now()
		if err := cw.write(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			// Lose nothing: try again with backoff until it works or the
			// cause (reported in Synced) goes away.
			retry = max(min(retry*2, 30*time.Second), 500*time.Millisecond)
			if !sleep(ctx, retry) {
				return
			}
			cw.kick()
			continue
		}
		retry = 0
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Store is where a mirror is written: a ConfigMap for the operator, a
// directory or a ConfigMap for the sidecar.
type Store interface {
	// Apply makes the target hold r. It returns "success", or "skipped"
	// when the target already held it. A *TargetError tells why a write is
	// refused for good (until the input changes).
	Apply(ctx context.Context, r mirror.Rendered) (string, error)
	// Name is what status.target shows, e.g. ConfigMap/messages.
	Name() string
}

// sizeLimited is a Store that cannot hold more than MaxSize bytes of data:
// a mirror over it is not written at all rather than written in part.
type sizeLimited interface {
	MaxSize() int
}

// TargetError is a write that retrying cannot fix, with a condition reason.
type TargetError struct {
	Reason, Message string
	// Backoff makes the writer wait (up to 30s) before it tries again even
	// when changes keep coming, for refusals that cost API calls to find
	// out (a ConfigMap owned by someone else).
	Backoff bool
}

func (e *TargetError) Error() string { return e.Message }

func (cw *mirrorWriter) write(ctx context.Context) error {
	w := cw.w
	r, err := w.mirror.Render()
	if err != nil {
		return cw.fail(v1alpha1.ReasonMissingKey, err.Error(), false)
	}
	if limited, ok := cw.store.(sizeLimited); ok && r.Size > limited.MaxSize() {
		return cw.fail(v1alpha1.ReasonTooLarge, fmt.Sprintf(
			"the mirror of %d items needs %d bytes, over the limit of %d bytes of %s; nothing was written and it keeps its last content. Narrow the query (fields, filter, limit) to resume",
			r.Items, r.Size, limited.MaxSize(), cw.store.Name()), false)
	}

	var result string
	for attempt := 0; ; attempt++ {
		result, err = cw.store.Apply(ctx, r)
		if err == nil || !apierrors.IsConflict(err) || attempt >= 5 {
			break
		}
	}
	if err != nil {
		var te *TargetError
		if errors.As(err, &te) {
			return cw.fail(te.Reason, te.Message, te.Backoff)
		}
		return cw.fail(v1alpha1.ReasonWriteFailed, fmt.Sprintf("writing %s failed: %v", cw.store.Name(), err), true)
	}
	targetWrites.WithLabelValues(targetConfigMap, result).Inc()

	now := time.Now()
	cw.mu.Lock()
	keep := cw.pending[:0]
	for _, p := range cw.pending {
		if p.seq <= r.Seq {
			eventToWrite.WithLabelValues(targetConfigMap).Observe(now.Sub(p.at).Seconds())
		} else {
			keep = append(keep, p)
		}
	}
	cw.pending = keep
	cw.mu.Unlock()
	current := w.current.Load()
	w.update(func(st *Status) {
		st.Items = int64(r.Items)
		if !current {
			// Written, but known to miss changes until the next full read
			// (a snapshot failed or is pending): say so, not Synced.
			return
		}
		st.Synced, st.SyncReason = metav1.ConditionTrue, v1alpha1.ReasonSynced
		st.SyncMessage = fmt.Sprintf("%s holds the %d items received", cw.store.Name(), r.Items)
		st.LastSync = now
	})
	return nil
}

func (cw *mirrorWriter) fail(reason, msg string, retry bool) error {
	targetWrites.WithLabelValues(targetConfigMap, "error").Inc()
	writeErrors.WithLabelValues(targetConfigMap, reason).Inc()
	cw.w.log.Info("Mirror not written", "reason", reason, "message", msg)
	cw.w.update(func(st *Status) {
		st.Synced, st.SyncReason, st.SyncMessage, st.LastError = metav1.ConditionFalse, reason, msg, msg
	})
	if retry {
		return fmt.Errorf("%s", msg)
	}
	return nil
}
