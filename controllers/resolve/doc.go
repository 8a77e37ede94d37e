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

// Package resolve turns a DirectusSubscription's spec, the connection
// object it names (or its inline settings) and the Secrets and CA bundles
// they name into the subscriptions.Config it runs with.
//
// It owns that translation: the connection source (Resolver, Source), who
// may use which connection (InlineConnections, a ClusterDirectusConnection's
// namespace conditions), the one reader of credentials (Credentials, with
// SecretValues keeping Secret data by resourceVersion), the Config's hash
// and connection key, and the cache of Configs per generation and Secret
// version (ConfigCache). A problem only a change of spec or Secret can fix
// is a *StalledError with a condition reason.
//
// It must not write any object or status, nor talk to Directus: the
// reconcilers call it and act on what it returns.
package resolve
