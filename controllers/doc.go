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

// Package controllers holds the reconcilers of the three kinds
// (DirectusSubscription, DirectusConnection, ClusterDirectusConnection).
//
// It owns the objects' status: each reconciler is the one writer of its
// kind's status, once per reconcile, from what the Hub reports
// (…_status.go holds the pure functions that turn it into conditions, and
// conditions.go the condition setter and kstatus rule both kinds share).
// The translation of a spec and its Secrets into a subscriptions.Config is
// package resolve's; the running of it, package hub's.
//
// It must not talk to Directus or hold connections: it declares what
// should run (hub.Hub.Ensure, Remove) and reads back how it goes.
package controllers
