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
	"fmt"
	"maps"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
)

// ObjectStore writes a mirror into a ConfigMap or a Secret that it owns
// through an owner reference, leaving the rest of the object (other labels,
// annotations, binaryData) as others wrote it.
type ObjectStore struct {
	// Kind is ConfigMap (the zero value) or Secret.
	Kind TargetKind
	// Client writes; its reads may come from a cache that only sees
	// ConfigMaps labelled as the operator's.
	Client client.Client
	// Reader reads objects the cache does not show.
	Reader client.Reader
	Key    types.NamespacedName
	// Owner is the controller reference put on the object; an object
	// controlled by anything else is not taken over.
	Owner metav1.OwnerReference
	// Subscription names the subscription in the object's labels.
	Subscription string
	Labels       map[string]string
	Annotations  map[string]string
	// Adopt, when set, says whether an object controlled by another owner
	// may be taken over: the sidecar's replicas hand their ConfigMap from
	// one leader Pod to the next. Nil takes none over.
	Adopt func(obj client.Object) bool

	mu   sync.Mutex
	last map[string]string
	// lastVersion is the resourceVersion our last write produced.
	lastVersion string
}

// Name implements Store.
func (s *ObjectStore) Name() string { return s.Kind.name() + "/" + s.Key.Name }

// MaxSize is the API server's limit for a ConfigMap's or a Secret's data.
func (s *ObjectStore) MaxSize() int { return mirror.MaxDataSize }

// Apply implements Store.
func (s *ObjectStore) Apply(ctx context.Context, r mirror.Rendered) (string, error) {
	key := s.Key
	obj := s.Kind.new()
	err := s.Client.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		obj = s.Kind.new()
		obj.SetName(key.Name)
		obj.SetNamespace(key.Namespace)
		s.desired(obj, r)
		err = s.Client.Create(ctx, obj)
		if err == nil {
			return resultSuccess, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return "", err
		}
		// It exists but the cache (which only sees ConfigMaps labelled as
		// ours) does not show it: read it directly.
		obj = s.Kind.new()
		err = s.Reader.Get(ctx, key, obj)
	}
	if err != nil {
		return "", err
	}
	if !s.mayWrite(obj) {
		return "", s.notOwned()
	}
	// An adopted object is written even when its data is current: the
	// write moves its owner reference.
	if ownedBy(obj, s.Owner.UID) && obj.GetAnnotations()[v1alpha1.AnnotationContentHash] == r.Hash && maps.Equal(s.Kind.data(obj), r.Data) &&
		s.metaCurrent(obj) && s.lastIs(r.Data) {
		return resultSkipped, nil
	}
	// Only the keys that changed travel, below MergePatchMaxBytes: the
	// client's cost follows the change, not the mirror.
	if patch, ok := s.smallPatch(obj, r); ok {
		if err := s.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return "", err
		}
		s.remember(r.Data, obj.GetResourceVersion())
		return resultSuccess, nil
	}
	if v := s.writtenVersion(); v != "" && v != obj.GetResourceVersion() && ownedBy(obj, s.Owner.UID) {
		// The cache has not seen our last write yet (the usual case), or
		// someone wrote after it. Write on top of our last write: the
		// whole data is replaced, and if someone did write since, the
		// conflict below reads the current version. Without this, every
		// write that follows the previous one closely would meet a
		// conflict first.
		obj.SetResourceVersion(v)
	}
	s.desired(obj, r)
	err = s.Client.Update(ctx, obj)
	written := obj
	// This is the data plane's one place that retries conflicts.
	for attempt := 0; apierrors.IsConflict(err) && attempt < maxConflictRetries; attempt++ {
		// The cache lags behind our previous write, or someone wrote: read
		// the current version directly instead of retrying against the
		// same stale copy.
		fresh := s.Kind.new()
		if err := s.Reader.Get(ctx, key, fresh); err != nil {
			return "", err
		}
		if !s.mayWrite(fresh) {
			return "", s.notOwned()
		}
		s.desired(fresh, r)
		err = s.Client.Update(ctx, fresh)
		written = fresh
	}
	if err == nil {
		s.remember(r.Data, written.GetResourceVersion())
	}
	return resultSuccess, err
}

// maxConflictRetries bounds the writes Apply tries again, each on a fresh
// read, when the object changed under it; past it the sink retries with
// backoff.
const maxConflictRetries = 5

// MergePatchMaxBytes is the mirror size from which a write sends the whole
// object (an Update) instead of a merge patch of the changed keys. The
// patch keeps the client's cost with the change, but the API server then
// decodes, patches and re-encodes the whole object: on a 2,000-key,
// 200 KiB ConfigMap a one-key patch cost it 52–62 ms of CPU against 30–39 ms
// for a full Update, and 6.6–7.6 ms against 5.3–5.5 ms on a small one
// (make bench-floor, docs/benchmarks.md). Past this size the API server's
// CPU, which every tenant shares, is the scarcer resource.
const MergePatchMaxBytes = 64 << 10

// mayWrite tells whether the store owns obj or may adopt it.
func (s *ObjectStore) mayWrite(obj client.Object) bool {
	return ownedBy(obj, s.Owner.UID) || (s.Adopt != nil && s.Adopt(obj))
}

// lastIs tells whether the last write (if any) wrote data: a cache that
// shows data may lag behind a later write that changed it.
func (s *ObjectStore) lastIs(data map[string]string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last == nil || maps.Equal(s.last, data)
}

// remember keeps what the store last wrote, and the version it made: the
// cache may not show it yet.
func (s *ObjectStore) remember(data map[string]string, version string) {
	s.mu.Lock()
	s.last, s.lastVersion = data, version
	s.mu.Unlock()
}

// writtenVersion is the resourceVersion of the store's last write, or "".
func (s *ObjectStore) writtenVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastVersion
}

// smallPatch is mergePatch for a mirror under MergePatchMaxBytes; a larger
// one is sent whole, and its patch is not even built.
func (s *ObjectStore) smallPatch(obj client.Object, r mirror.Rendered) ([]byte, bool) {
	if r.Size >= MergePatchMaxBytes {
		return nil, false
	}
	return s.mergePatch(obj, r)
}

// mergePatch is a JSON merge patch that makes obj (as the cache shows it)
// hold r: the keys whose value differs from the cache or from the last
// write, null for keys in either that r no longer has, and the operator's
// labels and annotations. Sending a key twice or deleting one that is gone
// is harmless, so a cache that lags behind the last write cannot leave a
// stale key behind. It is not used when the owner reference must be added
// (a list, which a merge patch replaces whole).
func (s *ObjectStore) mergePatch(obj client.Object, r mirror.Rendered) ([]byte, bool) {
	if !ownedBy(obj, s.Owner.UID) {
		return nil, false
	}
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	current := s.Kind.data(obj)
	data := map[string]any{}
	for k, v := range r.Data {
		if cur, ok := current[k]; !ok || cur != v {
			data[k] = s.Kind.patchValue(v)
		} else if prev, ok := last[k]; last != nil && (!ok || prev != v) {
			data[k] = s.Kind.patchValue(v)
		}
	}
	for _, old := range []map[string]string{current, last} {
		for k := range old {
			if _, keep := r.Data[k]; !keep {
				data[k] = nil
			}
		}
	}
	labels := map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelSubscription: s.Subscription}
	maps.Copy(labels, s.Labels)
	annotations := map[string]string{v1alpha1.AnnotationContentHash: r.Hash}
	maps.Copy(annotations, s.Annotations)
	type meta struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	}
	patch, err := json.Marshal(struct {
		Metadata meta           `json:"metadata"`
		Data     map[string]any `json:"data"`
	}{meta{labels, annotations}, data})
	return patch, err == nil
}

func (s *ObjectStore) notOwned() *TargetError {
	kind := s.Kind.name()
	return &TargetError{Reason: s.Kind.notOwnedReason(), Backoff: true, Message: fmt.Sprintf(
		"%s %s exists and is not owned by this %s; it will not be taken over. Delete it or choose another %s name", kind, s.Key.Name, s.Owner.Kind, kind)}
}

// desired sets what the operator owns on the object and leaves the rest
// (other labels, annotations, binaryData) as others wrote it.
func (s *ObjectStore) desired(obj client.Object, r mirror.Rendered) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, s.Labels)
	labels[v1alpha1.LabelManagedBy] = v1alpha1.ManagedByValue
	labels[v1alpha1.LabelSubscription] = s.Subscription
	obj.SetLabels(labels)
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	maps.Copy(annotations, s.Annotations)
	annotations[v1alpha1.AnnotationContentHash] = r.Hash
	obj.SetAnnotations(annotations)
	s.Kind.setData(obj, r.Data)
	if !ownedBy(obj, s.Owner.UID) {
		// An adopted ConfigMap leaves its previous owner: the API server
		// allows one controller, and the old owner's deletion must not
		// take the ConfigMap with it.
		obj.SetOwnerReferences(slices.DeleteFunc(obj.GetOwnerReferences(), func(r metav1.OwnerReference) bool {
			return r.Controller != nil && *r.Controller
		}))
		ref := s.Owner
		ref.Controller, ref.BlockOwnerDeletion = new(true), new(true)
		obj.SetOwnerReferences(append(obj.GetOwnerReferences(), ref))
	}
}

func (s *ObjectStore) metaCurrent(obj client.Object) bool {
	labels, annotations := obj.GetLabels(), obj.GetAnnotations()
	if labels[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue || labels[v1alpha1.LabelSubscription] != s.Subscription {
		return false
	}
	for k, v := range s.Labels {
		if labels[k] != v {
			return false
		}
	}
	for k, v := range s.Annotations {
		if annotations[k] != v {
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
