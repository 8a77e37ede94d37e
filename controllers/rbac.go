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

package controllers

// The operator's permissions, at least privilege: it reads its own API, the
// Secrets its subscriptions and connections name, and namespace labels (for
// the conditions of ClusterDirectusConnections), and writes only ConfigMaps
// and Secrets it owns and Events, in the subscription's namespace. Writing
// Secrets is for the secret target; the code never writes a Secret it does
// not own (docs/security.md).
//
// +kubebuilder:rbac:groups=realtime.directus-operator.io,resources=directussubscriptions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=realtime.directus-operator.io,resources=directussubscriptions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=realtime.directus-operator.io,resources=directussubscriptions/finalizers,verbs=update
// +kubebuilder:rbac:groups=realtime.directus-operator.io,resources=directusconnections;clusterdirectusconnections,verbs=get;list;watch
// +kubebuilder:rbac:groups=realtime.directus-operator.io,resources=directusconnections/status;clusterdirectusconnections/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
