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
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
)

// configMapWriter persists the mirror. Changes that arrive while a write is
// in flight are merged into the next write, so a burst costs a few writes
// and a lone change is written at once, with no timer holding it back.
type configMapWriter struct {
	w     *worker
	dirty chan struct{}
	// primed is set once the mirror holds a snapshot: writing before that
	// would empty a ConfigMap that consumers rely on.
	primed atomic.Bool

	mu      sync.Mutex
	pending []pendingChange
	written uint64
	failed  bool
}

// pendingChange remembers when the change with mirror sequence seq arrived,
// for the event-to-write latency histogram.
type pendingChange struct {
	seq uint64
	at  time.Time
}

func newConfigMapWriter(w *worker) *configMapWriter {
	return &configMapWriter{w: w, dirty: make(chan struct{}, 1)}
}

func (cw *configMapWriter) prime() { cw.primed.Store(true) }

// changed records a change that arrived at `at` and wakes the writer.
func (cw *configMapWriter) changed(at time.Time) {
	cw.mu.Lock()
	if len(cw.pending) < 100000 {
		cw.pending = append(cw.pending, pendingChange{seq: cw.w.mirror.Seq(), at: at})
	}
	cw.mu.Unlock()
	cw.kick()
}

// kick wakes the writer to compare the ConfigMap with the mirror, as after
// someone edited or deleted it.
func (cw *configMapWriter) kick() {
	select {
	case cw.dirty <- struct{}{}:
	default:
	}
}

func (cw *configMapWriter) run(ctx context.Context) {
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

// errNoRetry marks write failures that only a change of input can fix.
type errNoRetry struct{ error }

func (cw *configMapWriter) write(ctx context.Context) error {
	w := cw.w
	r, err := w.mirror.Render()
	if err != nil {
		return cw.fail(v1alpha1.ReasonMissingKey, err.Error(), false)
	}
	if r.Size > mirror.MaxDataSize {
		return cw.fail(v1alpha1.ReasonTooLarge, fmt.Sprintf(
			"the mirror of %d items needs %d bytes, over the ConfigMap limit of %d bytes; nothing was written and the ConfigMap keeps its last content. Narrow the query (fields, filter, limit) to resume",
			r.Items, r.Size, mirror.MaxDataSize), false)
	}

	var result string
	for attempt := 0; ; attempt++ {
		result, err = cw.apply(ctx, r)
		if err == nil || !apierrors.IsConflict(err) || attempt >= 5 {
			break
		}
	}
	if err != nil {
		if nr, ok := err.(errNoRetry); ok {
			return cw.fail(v1alpha1.ReasonConfigMapNotOwned, nr.Error(), false)
		}
		return cw.fail(v1alpha1.ReasonWriteFailed, fmt.Sprintf("writing ConfigMap %s failed: %v", w.cfg.ConfigMap.Name, err), true)
	}
	targetWrites.WithLabelValues(targetConfigMap, result).Inc()

	now := time.Now()
	cw.mu.Lock()
	cw.written = r.Seq
	cw.failed = false
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
	w.update(func(st *Status) {
		st.Synced, st.SyncReason = metav1.ConditionTrue, v1alpha1.ReasonSynced
		st.SyncMessage = fmt.Sprintf("ConfigMap %s holds the %d items received", w.cfg.ConfigMap.Name, r.Items)
		st.Items = int64(r.Items)
		st.LastSync = now
	})
	return nil
}

func (cw *configMapWriter) fail(reason, msg string, retry bool) error {
	targetWrites.WithLabelValues(targetConfigMap, "error").Inc()
	writeErrors.WithLabelValues(targetConfigMap, reason).Inc()
	cw.w.log.Info("ConfigMap not written", "reason", reason, "message", msg)
	cw.mu.Lock()
	cw.failed = true
	cw.mu.Unlock()
	cw.w.update(func(st *Status) {
		st.Synced, st.SyncReason, st.SyncMessage, st.LastError = metav1.ConditionFalse, reason, msg, msg
	})
	if retry {
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// apply makes the ConfigMap hold r; it returns "success" or "skipped".
func (cw *configMapWriter) apply(ctx context.Context, r mirror.Rendered) (string, error) {
	w := cw.w
	o := w.owner
	key := types.NamespacedName{Namespace: w.cfg.Name.Namespace, Name: w.cfg.ConfigMap.Name}
	cm := &corev1.ConfigMap{}
	err := o.client.Get(ctx, key, cm)
	if apierrors.IsNotFound(err) {
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}}
		cw.desired(cm, r)
		err = o.client.Create(ctx, cm)
		if err == nil {
			return "success", nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return "", err
		}
		// It exists but the cache (which only sees ConfigMaps labelled as
		// ours) does not show it: read it directly.
		cm = &corev1.ConfigMap{}
		err = o.reader.Get(ctx, key, cm)
	}
	if err != nil {
		return "", err
	}
	if !ownedBy(cm, w.cfg.UID) {
		return "", errNoRetry{fmt.Errorf("ConfigMap %s exists and is not owned by this DirectusSubscription; the operator will not take it over. Delete it or set target.configMap.name to another name", key.Name)}
	}
	if cm.Annotations[v1alpha1.AnnotationContentHash] == r.Hash && maps.Equal(cm.Data, r.Data) && cw.metaCurrent(cm) {
		return "skipped", nil
	}
	cw.desired(cm, r)
	return "success", o.client.Update(ctx, cm)
}

// desired sets what the operator owns on the ConfigMap and leaves the rest
// (other labels, annotations, binaryData) as others wrote it.
func (cw *configMapWriter) desired(cm *corev1.ConfigMap, r mirror.Rendered) {
	w := cw.w
	if cm.Labels == nil {
		cm.Labels = map[string]string{}
	}
	maps.Copy(cm.Labels, w.cfg.ConfigMap.Labels)
	cm.Labels[v1alpha1.LabelManagedBy] = v1alpha1.ManagedByValue
	cm.Labels[v1alpha1.LabelSubscription] = w.cfg.Name.Name
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	maps.Copy(cm.Annotations, w.cfg.ConfigMap.Annotations)
	cm.Annotations[v1alpha1.AnnotationContentHash] = r.Hash
	cm.Data = r.Data
	if !ownedBy(cm, w.cfg.UID) {
		cm.OwnerReferences = append(cm.OwnerReferences, metav1.OwnerReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "DirectusSubscription",
			Name: w.cfg.Name.Name, UID: w.cfg.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		})
	}
}

func (cw *configMapWriter) metaCurrent(cm *corev1.ConfigMap) bool {
	w := cw.w
	if cm.Labels[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue || cm.Labels[v1alpha1.LabelSubscription] != w.cfg.Name.Name {
		return false
	}
	for k, v := range w.cfg.ConfigMap.Labels {
		if cm.Labels[k] != v {
			return false
		}
	}
	for k, v := range w.cfg.ConfigMap.Annotations {
		if cm.Annotations[k] != v {
			return false
		}
	}
	return true
}

// ownedBy tells whether the subscription with uid controls the object.
func ownedBy(obj metav1.Object, uid types.UID) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == uid && ref.Controller != nil && *ref.Controller {
			return true
		}
	}
	return false
}
