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
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// InlineConnections says whether subscriptions may carry their own url and
// credentials (--inline-connections).
type InlineConnections string

const (
	// InlineAllow lets a subscription set spec.url: the operator then dials
	// whatever URL its author writes.
	InlineAllow InlineConnections = "Allow"
	// InlineDeny makes every subscription name a DirectusConnection or a
	// ClusterDirectusConnection, which only their (platform) authors define.
	InlineDeny InlineConnections = "Deny"
)

// Source is where a subscription's connection settings come
// from: its own spec (inline), or the connection object it names.
type Source struct {
	// Ref is "" for an inline connection, else Kind/name, as
	// status.connection.ref shows it; Object names it.
	Ref    string
	Object subscriptions.ConnectionObject
	// Identity names the connection object with its UID: subscriptions of
	// one object share sockets, and a re-created object is a new identity.
	Identity string
	// Generation is the connection object's.
	Generation int64
	Spec       *v1alpha1.DirectusConnectionSpec
	// Namespace is where the references of Spec are read, unless one names
	// its own namespace (which only a ClusterDirectusConnection may).
	Namespace string
	// MaxPerSocket and MaxConcurrentReads are the object's caps; 0 means the
	// operator's defaults.
	MaxPerSocket, MaxConcurrentReads int
}

// InlineSource is obj's own connection settings.
func InlineSource(obj *v1alpha1.DirectusSubscription) Source {
	return Source{Spec: &obj.Spec.DirectusConnectionSpec, Namespace: obj.Namespace}
}

func NamespacedSource(c *v1alpha1.DirectusConnection) Source {
	return Source{
		Ref:        v1alpha1.KindDirectusConnection + "/" + c.Name,
		Object:     subscriptions.ConnectionObject{Kind: v1alpha1.KindDirectusConnection, Key: client.ObjectKeyFromObject(c)},
		Identity:   fmt.Sprintf("%s/%s/%s@%s", v1alpha1.KindDirectusConnection, c.Namespace, c.Name, c.UID),
		Generation: c.Generation, Spec: &c.Spec.DirectusConnectionSpec, Namespace: c.Namespace,
		MaxPerSocket: int(c.Spec.MaxSubscriptionsPerSocket), MaxConcurrentReads: int(c.Spec.MaxConcurrentReads),
	}
}

func ClusterSource(c *v1alpha1.ClusterDirectusConnection) Source {
	return Source{
		Ref:          v1alpha1.KindClusterDirectusConnection + "/" + c.Name,
		Object:       subscriptions.ConnectionObject{Kind: v1alpha1.KindClusterDirectusConnection, Key: client.ObjectKeyFromObject(c)},
		Identity:     fmt.Sprintf("%s/%s@%s", v1alpha1.KindClusterDirectusConnection, c.Name, c.UID),
		Spec:         &c.Spec.DirectusConnectionSpec,
		MaxPerSocket: int(c.Spec.MaxSubscriptionsPerSocket), MaxConcurrentReads: int(c.Spec.MaxConcurrentReads),
	}
}

// in returns the namespace a reference is read from.
func (s Source) in(refNamespace string) string {
	if refNamespace != "" {
		return refNamespace
	}
	return s.Namespace
}

// Secrets lists the Secrets the connection reads.
func (s Source) Secrets() []types.NamespacedName {
	var out []types.NamespacedName
	a := s.Spec.Auth
	if a.Token != nil {
		out = append(out, types.NamespacedName{Namespace: s.in(a.Token.Namespace), Name: a.Token.Name})
	}
	if a.Credentials != nil {
		out = append(out, types.NamespacedName{Namespace: s.in(a.Credentials.Namespace), Name: a.Credentials.SecretName})
	}
	if t := s.Spec.TLS; t != nil && t.CA != nil && t.CA.SecretKeyRef != nil {
		out = append(out, types.NamespacedName{Namespace: s.in(t.CA.SecretKeyRef.Namespace), Name: t.CA.SecretKeyRef.Name})
	}
	return out
}

// caConfigMap names the ConfigMap holding the CA bundle, if any.
func (s Source) caConfigMap() (types.NamespacedName, bool) {
	if t := s.Spec.TLS; t != nil && t.CA != nil && t.CA.ConfigMapKeyRef != nil {
		return types.NamespacedName{Namespace: s.in(t.CA.ConfigMapKeyRef.Namespace), Name: t.CA.ConfigMapKeyRef.Name}, true
	}
	return types.NamespacedName{}, false
}

// Resolver finds the connection settings a subscription uses,
// and enforces who may use what.
type Resolver struct {
	// Reader reads connection objects and Namespaces from the cache.
	Reader client.Reader
	Inline InlineConnections
}

// Resolve returns obj's connection source. Its StalledErrors say why a
// subscription may not connect at all: then no socket is opened.
func (cr Resolver) Resolve(ctx context.Context, obj *v1alpha1.DirectusSubscription) (Source, error) {
	ref := obj.Spec.ConnectionRef
	if ref == nil {
		if cr.Inline == InlineDeny {
			return Source{}, &StalledError{v1alpha1.ReasonInlineConnectionDenied,
				"this operator does not allow inline connections (--inline-connections=Deny): remove url and auth, and name a " +
					"DirectusConnection of this namespace or a ClusterDirectusConnection in spec.connectionRef"}
		}
		return InlineSource(obj), nil
	}
	switch ref.Kind {
	case v1alpha1.KindClusterDirectusConnection:
		c := &v1alpha1.ClusterDirectusConnection{}
		if err := cr.Reader.Get(ctx, types.NamespacedName{Name: ref.Name}, c); err != nil {
			return Source{}, notFound(err, fmt.Sprintf("ClusterDirectusConnection %q not found", ref.Name))
		}
		ok, err := cr.allows(ctx, c, obj.Namespace)
		if err != nil {
			return Source{}, err
		}
		if !ok {
			return Source{}, &StalledError{v1alpha1.ReasonConnectionNotAllowed, fmt.Sprintf(
				"ClusterDirectusConnection %q does not allow namespace %q (its spec.conditions); ask its owners, or use another connection",
				ref.Name, obj.Namespace)}
		}
		return ClusterSource(c), nil
	default:
		c := &v1alpha1.DirectusConnection{}
		if err := cr.Reader.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, c); err != nil {
			return Source{}, notFound(err, fmt.Sprintf("DirectusConnection %q not found in namespace %q", ref.Name, obj.Namespace))
		}
		return NamespacedSource(c), nil
	}
}

// notFound turns a NotFound into a StalledError with msg.
func notFound(err error, msg string) error {
	if apierrors.IsNotFound(err) {
		return &StalledError{v1alpha1.ReasonConnectionNotFound, msg + "; the target keeps its last content until it exists"}
	}
	return err
}

// allows tells whether c's conditions let namespace ns use it: any
// condition that matches does, and no conditions let every namespace.
func (cr Resolver) allows(ctx context.Context, c *v1alpha1.ClusterDirectusConnection, ns string) (bool, error) {
	if len(c.Spec.Conditions) == 0 {
		return true, nil
	}
	var nsLabels labels.Set
	for _, cond := range c.Spec.Conditions {
		if slices.Contains(cond.Namespaces, ns) {
			return true, nil
		}
		for _, expr := range cond.NamespaceRegexes {
			// An invalid expression matches nothing; the connection's own
			// status says so.
			if re, err := regexp.Compile(expr); err == nil && re.MatchString(ns) {
				return true, nil
			}
		}
		if cond.NamespaceSelector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(cond.NamespaceSelector)
		if err != nil {
			continue
		}
		if nsLabels == nil {
			n := coreMetadata("Namespace")
			if err := cr.Reader.Get(ctx, types.NamespacedName{Name: ns}, n); err != nil {
				return false, fmt.Errorf("read namespace %s: %w", ns, err)
			}
			nsLabels = labels.Set(n.Labels)
		}
		if sel.Matches(nsLabels) {
			return true, nil
		}
	}
	return false, nil
}

// ConditionErrors lists what is wrong in c's conditions, for its status.
func ConditionErrors(c *v1alpha1.ClusterDirectusConnection) []string {
	var errs []string
	for i, cond := range c.Spec.Conditions {
		for _, expr := range cond.NamespaceRegexes {
			if _, err := regexp.Compile(expr); err != nil {
				errs = append(errs, fmt.Sprintf("conditions[%d].namespaceRegexes: %v", i, err))
			}
		}
		if cond.NamespaceSelector != nil {
			if _, err := metav1.LabelSelectorAsSelector(cond.NamespaceSelector); err != nil {
				errs = append(errs, fmt.Sprintf("conditions[%d].namespaceSelector: %v", i, err))
			}
		}
	}
	return errs
}

// ConnectionRef is what status.connection.ref shows for obj: the connection
// object it names, as Kind/name, or "" for an inline connection.
func ConnectionRef(obj *v1alpha1.DirectusSubscription) string {
	ref := obj.Spec.ConnectionRef
	if ref == nil {
		return ""
	}
	return cmp.Or(ref.Kind, v1alpha1.KindDirectusConnection) + "/" + ref.Name
}
