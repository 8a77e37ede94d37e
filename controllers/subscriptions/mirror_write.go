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

// How a MirrorSink writes its target: render → admit (the byte budget, the
// store's size limit) → apply → record, and how a write that did not happen
// is reported.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
)

// write persists the mirror, in four steps: render it, admit the write
// (the byte budget, the store's size limit), apply it to the store, and
// record the outcome. On a refusal it keeps the target's last content and
// reports why; on a transient failure it retries with backoff.
func (s *MirrorSink) write(ctx context.Context) {
	r, ok := s.render()
	if !ok || !s.admit(r) {
		return
	}
	began := time.Now()
	result, ok := s.apply(ctx, r)
	if !ok {
		return
	}
	s.record(r, result, began)
}

// render renders the mirror; when it cannot, the target keeps its content
// and the status says why.
func (s *MirrorSink) render() (mirror.Rendered, bool) {
	r, err := s.m.Render()
	if te, ok := errors.AsType[*mirror.TemplateError](err); ok {
		// Every change tries again; until one renders, the target keeps
		// what it holds.
		s.fail(v1alpha1.ReasonTemplateFailed, te.Error()+"; "+s.o.Store.Name()+" keeps its last content", false)
		return r, false
	}
	if err != nil {
		s.fail(v1alpha1.ReasonMissingKey, err.Error(), false)
		return r, false
	}
	return r, true
}

// admit tells whether r may be written now: within the byte budget (over
// it, the write waits and what comes meanwhile is merged into it) and
// within the store's size limit (over it, nothing is written).
func (s *MirrorSink) admit(r mirror.Rendered) bool {
	if s.budget != nil {
		now := time.Now()
		if res := s.budget.ReserveN(now, r.Size); res.OK() {
			if d := res.DelayFrom(now); d > 0 {
				res.CancelAt(now)
				s.writeAt = now.Add(d)
				return false
			}
		}
	}
	store := s.o.Store
	if limited, ok := store.(sizeLimited); ok && r.Size > limited.MaxSize() {
		s.fail(v1alpha1.ReasonTooLarge, fmt.Sprintf(
			"the mirror of %d items needs %d bytes, over the limit of %d bytes of %s; nothing was written and it keeps its last content. "+
				"Narrow the query (fields, filter, limit) to resume",
			r.Items, r.Size, limited.MaxSize(), store.Name()), false)
		return false
	}
	return true
}

// apply writes r to the store and returns the store's result; a failure
// is reported, and retried as its kind says.
func (s *MirrorSink) apply(ctx context.Context, r mirror.Rendered) (string, bool) {
	store := s.o.Store
	result, err := store.Apply(ctx, r)
	switch te, isTarget := errors.AsType[*TargetError](err); {
	case err == nil:
		return result, true
	case ctx.Err() != nil:
	case isTarget:
		s.fail(te.Reason, te.Message, te.Backoff)
	default:
		s.fail(v1alpha1.ReasonWriteFailed, fmt.Sprintf("writing %s failed: %v", store.Name(), err), true)
	}
	return "", false
}

// record notes a write of r that began at began: metrics, the write
// timers, the changes it carried, and the Synced condition.
func (s *MirrorSink) record(r mirror.Rendered, result string, began time.Time) {
	targetWrites.WithLabelValues(s.metricTarget(), result).Inc()
	now := time.Now()
	if log := s.env.log.V(1); log.Enabled() {
		var oldest time.Duration
		if len(s.changes) > 0 {
			oldest = now.Sub(s.changes[0].at)
		}
		log.Info("Wrote the mirror", "result", result, "items", r.Items, "bytes", r.Size,
			"took", now.Sub(began).String(), "oldestChange", oldest.String())
	}
	s.lastWrite = now
	s.writeRetry.reset()
	s.writeAt = time.Time{}
	if s.o.MinWriteInterval > 0 {
		s.writeAt = now.Add(s.o.MinWriteInterval)
	}
	if r.Seq == s.m.Seq() {
		s.dirty = false
	}
	s.verifyReq = false
	keep := s.changes[:0]
	for _, p := range s.changes {
		if p.seq <= r.Seq {
			eventToWrite.WithLabelValues(s.metricTarget()).Observe(now.Sub(p.at).Seconds())
		} else {
			keep = append(keep, p)
		}
	}
	s.changes = keep
	s.setWritten(r, now)
}

// setWritten is the status after a write of r at now: Synced True when the
// mirror is current and whole.
func (s *MirrorSink) setWritten(r mirror.Rendered, now time.Time) {
	name := s.o.Store.Name()
	s.setStatus(func(st *SinkStatus) {
		st.Items, st.Bytes, st.Resynced = int64(r.Items), int64(r.Size), s.resyncRead
		switch {
		case !s.current:
			// Written, but known to miss changes until the next full read
			// (one failed or is pending): say so, not Synced.
		case s.missing > 0:
			st.Synced, st.Reason = metav1.ConditionFalse, v1alpha1.ReasonMissingKey
			st.Message = fmt.Sprintf("%d item(s) could not be named and are not in %s: %s", s.missing, name, s.missingWhy)
		default:
			st.Synced, st.Reason = metav1.ConditionTrue, v1alpha1.ReasonSynced
			st.Message = fmt.Sprintf("%s holds the %d items received", name, r.Items)
			st.LastSync = now
		}
	})
}

// metricTarget is the target label of the write metrics: configmap,
// secret or directory, the kind of the store's name in lower case.
func (s *MirrorSink) metricTarget() string {
	name := s.o.Store.Name()
	if i := strings.IndexAny(name, "/:"); i >= 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}

// fail reports a write that did not happen. A retry waits with backoff;
// without one, the next change tries again.
func (s *MirrorSink) fail(reason, msg string, retry bool) {
	targetWrites.WithLabelValues(s.metricTarget(), "error").Inc()
	writeErrors.WithLabelValues(s.metricTarget(), reason).Inc()
	s.env.log.Info("Mirror not written", "reason", reason, "message", msg)
	if retry {
		s.writeAt = time.Now().Add(s.writeRetry.next(500 * time.Millisecond))
	} else {
		s.dirty, s.verifyReq = false, false
	}
	s.setStatus(func(st *SinkStatus) {
		st.Synced, st.Reason, st.Message, st.LastError = metav1.ConditionFalse, reason, msg, timedText{msg, time.Now()}
		// A refusal answers a resync request as well as a write does.
		st.Resynced = s.resyncRead
	})
}
