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

package resolve

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SecretValues keeps the data of the Secrets that subscriptions name, with
// the resourceVersion it was read at. A thousand subscriptions that name one
// Secret then read it from the API server once, not a thousand times, after
// an operator restart. Whether an entry is current is told by the Secret's
// metadata, which the manager's cache watches anyway; only the Secrets that
// subscriptions name are kept, and the values already live in the
// connections' settings.
type SecretValues struct {
	// Metadata reads Secret metadata from the manager's cache.
	Metadata client.Reader

	mu      sync.Mutex
	entries map[types.NamespacedName]secretEntry
}

type secretEntry struct {
	resourceVersion string
	data            map[string][]byte
}

// get returns the Secret's data, read with reader unless the kept copy has
// the resourceVersion the metadata cache shows.
func (sv *SecretValues) get(ctx context.Context, reader client.Reader, key types.NamespacedName) (map[string][]byte, error) {
	rv := ""
	if sv.Metadata != nil {
		m := coreMetadata("Secret")
		if err := sv.Metadata.Get(ctx, key, m); err == nil {
			rv = m.ResourceVersion
		}
	}
	sv.mu.Lock()
	e, ok := sv.entries[key]
	sv.mu.Unlock()
	if ok && rv != "" && e.resourceVersion == rv {
		return e.data, nil
	}
	s := &corev1.Secret{}
	if err := reader.Get(ctx, key, s); err != nil {
		sv.mu.Lock()
		delete(sv.entries, key)
		sv.mu.Unlock()
		return nil, err
	}
	sv.mu.Lock()
	if sv.entries == nil {
		sv.entries = map[types.NamespacedName]secretEntry{}
	}
	sv.entries[key] = secretEntry{resourceVersion: s.ResourceVersion, data: s.Data}
	sv.mu.Unlock()
	return s.Data, nil
}

// coreMetadata is an empty object of a core kind (Secret, ConfigMap,
// Namespace) for a metadata-only read.
func coreMetadata(kind string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return m
}
