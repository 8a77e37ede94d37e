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
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// TargetKind is the kind of object an ObjectStore writes. The mirror is the same
// string data for both; only how an object holds it differs.
type TargetKind string

const (
	// TargetConfigMap writes a ConfigMap's data. The zero TargetKind.
	TargetConfigMap TargetKind = ""
	// TargetSecret writes an Opaque Secret's data.
	TargetSecret TargetKind = "Secret"
)

func (k TargetKind) name() string {
	if k == TargetSecret {
		return "Secret"
	}
	return "ConfigMap"
}

func (k TargetKind) new() client.Object {
	if k == TargetSecret {
		return &corev1.Secret{}
	}
	return &corev1.ConfigMap{}
}

// data is the object's data as the mirror renders it; nil for an object
// of another kind.
func (k TargetKind) data(obj client.Object) map[string]string {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		return o.Data
	case *corev1.Secret:
		if o.Data == nil {
			return nil
		}
		data := make(map[string]string, len(o.Data))
		for key, v := range o.Data {
			data[key] = string(v)
		}
		return data
	}
	return nil
}

func (k TargetKind) setData(obj client.Object, data map[string]string) {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		o.Data = data
	case *corev1.Secret:
		if o.Type == "" {
			o.Type = corev1.SecretTypeOpaque
		}
		o.StringData = nil
		o.Data = make(map[string][]byte, len(data))
		for key, v := range data {
			o.Data[key] = []byte(v)
		}
	}
}

// patchValue is how v travels in a JSON merge patch of the object's data:
// as is for a ConfigMap, base64 (what encoding/json makes of a []byte) for
// a Secret.
func (k TargetKind) patchValue(v string) any {
	if k == TargetSecret {
		return []byte(v)
	}
	return v
}

func (k TargetKind) notOwnedReason() string {
	if k == TargetSecret {
		return v1alpha1.ReasonSecretNotOwned
	}
	return v1alpha1.ReasonConfigMapNotOwned
}
