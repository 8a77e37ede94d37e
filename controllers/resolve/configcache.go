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
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// ConfigCache remembers the Config built for each subscription with the
// inputs it was built from: the object's UID and generation and the
// resourceVersions of the Secrets it names, read from the metadata cache
// that the Secret watch keeps anyway. Most reconciles only carry status
// updates from a runner; with the cache they read no Secret from the API
// server. A CA bundle in a ConfigMap is not watched (the cache only holds
// the ConfigMaps the operator writes): its resourceVersion is read directly
// at most once a minute, and the reconciler requeues such subscriptions
// every CARecheckInterval so a new bundle is noticed even when nothing else
// happens.
type ConfigCache struct {
	// Metadata reads Secret metadata from the manager's cache.
	Metadata client.Reader
	// APIReader reads the metadata of a CA ConfigMap, which the manager's
	// cache (it only holds the ConfigMaps the operator writes) does not.
	APIReader client.Reader

	mu      sync.Mutex
	entries map[types.NamespacedName]configEntry
	// caSeen remembers a CA ConfigMap's resourceVersion for a minute, so
	// that status-only reconciles (every few seconds while data flows) do
	// not each read it from the API server.
	caSeen map[types.NamespacedName]caVersion
	now    func() time.Time
}

type caVersion struct {
	rv string
	at time.Time
}

// caCheckTTL is how long a CA ConfigMap's resourceVersion is trusted.
const caCheckTTL = time.Minute

type configEntry struct {
	inputs  string
	cfg     subscriptions.Config
	warning string
}

// Config returns obj's Config, building it only when its inputs changed.
func (c *ConfigCache) Config(
	ctx context.Context, cr Credentials, obj *v1alpha1.DirectusSubscription, src Source,
) (subscriptions.Config, string, error) {
	key := client.ObjectKeyFromObject(obj)
	inputs, known := c.inputs(ctx, obj, src)
	if known {
		c.mu.Lock()
		e, hit := c.entries[key]
		c.mu.Unlock()
		if hit && e.inputs == inputs {
			return e.cfg, e.warning, nil
		}
	}
	cfg, warning, err := buildConfigFrom(ctx, cr, obj, src)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || !known {
		delete(c.entries, key)
		return cfg, warning, err
	}
	if c.entries == nil {
		c.entries = map[types.NamespacedName]configEntry{}
	}
	c.entries[key] = configEntry{inputs: inputs, cfg: cfg, warning: warning}
	return cfg, warning, nil
}

// Forget drops a deleted subscription's entry.
func (c *ConfigCache) Forget(key types.NamespacedName) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

// inputs describes what obj's Config depends on; known is false when a
// Secret's metadata is not in the cache (then the Config is always built).
func (c *ConfigCache) inputs(ctx context.Context, obj *v1alpha1.DirectusSubscription, src Source) (string, bool) {
	if c.Metadata == nil {
		return "", false
	}
	parts := []string{string(obj.UID), fmt.Sprint(obj.Generation), src.Identity, fmt.Sprint(src.Generation)}
	for _, key := range src.Secrets() {
		m := coreMetadata("Secret")
		if err := c.Metadata.Get(ctx, key, m); err != nil {
			return "", false
		}
		parts = append(parts, key.String()+"@"+m.ResourceVersion)
	}
	if key, ok := src.caConfigMap(); ok {
		rv, ok := c.caVersion(ctx, key)
		if !ok {
			return "", false
		}
		parts = append(parts, "configmap:"+key.String()+"@"+rv)
	}
	return strings.Join(parts, "/"), true
}

// caVersion reads a CA ConfigMap's resourceVersion, at most once per
// caCheckTTL.
func (c *ConfigCache) caVersion(ctx context.Context, key types.NamespacedName) (string, bool) {
	if c.APIReader == nil {
		return "", false
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	c.mu.Lock()
	seen, ok := c.caSeen[key]
	c.mu.Unlock()
	if ok && now().Sub(seen.at) < caCheckTTL {
		return seen.rv, true
	}
	m := coreMetadata("ConfigMap")
	if err := c.APIReader.Get(ctx, key, m); err != nil {
		return "", false
	}
	c.mu.Lock()
	if c.caSeen == nil {
		c.caSeen = map[types.NamespacedName]caVersion{}
	}
	c.caSeen[key] = caVersion{rv: m.ResourceVersion, at: now()}
	c.mu.Unlock()
	return m.ResourceVersion, true
}

// CARecheckInterval is how often a subscription whose CA bundle is in a
// ConfigMap (not watched) is reconciled to notice a new bundle.
const CARecheckInterval = 5 * time.Minute

// HasCAConfigMap tells whether src's CA bundle is in a ConfigMap.
func HasCAConfigMap(src Source) bool {
	_, ok := src.caConfigMap()
	return ok
}
