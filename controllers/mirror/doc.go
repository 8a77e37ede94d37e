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

// Package mirror holds the in-memory copy of a Directus query result and
// renders it as ConfigMap or Secret data, by a layout or a template.
//
// It must not know Kubernetes clients or sockets: a Runner feeds it
// messages through its MirrorSink, and the sink's Store persists what it
// renders.
package mirror
