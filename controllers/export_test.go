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

import "github.com/directus-operator/directus-operator/api/v1alpha1"

// The kstatus table test lives in package controllers_test, beside the
// suite's API server; it writes statuses the way the operator does.
var (
	ApplyRunnerStatus = applyRunnerStatus
	MarkStalled       = markStalled
	MarkSuspended     = markSuspended
	// ReportWithoutConditions is what applyRunnerStatus does after it set
	// the three conditions, for an object that has none: the NotReady
	// fallback, which no runner report reaches.
	ReportWithoutConditions = func(obj *v1alpha1.DirectusSubscription) {
		obj.Status.ObservedGeneration = obj.Generation
		setReady(obj, "")
		setProgress(obj)
	}
)
