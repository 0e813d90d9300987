package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// Kinds the handlers accept, as the API server names them in a review.
var (
	daemonSetKind = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	configMapKind = metav1.GroupVersionKind{Group: "", Version: "v1", Kind: "ConfigMap"}
	podKind       = metav1.GroupVersionKind{Group: "", Version: "v1", Kind: "Pod"}
)

// Lookup bounds: each is well inside the webhooks' 5 s timeout, so that a slow or unreachable
// API server yields a clear answer from us rather than a timeout at the API server.
const (
	// LookupTimeout bounds a read the decision needs (the mounted ConfigMap, a namespace's labels).
	LookupTimeout = 2 * time.Second
	// AdvisoryTimeout bounds a read that only adds a warning; past it the warning is skipped.
	AdvisoryTimeout = 1 * time.Second
)

// errMalformed is wrapped by the errors malformedRequest returns.
var errMalformed = errors.New("malformed admission review")

// malformedRequest returns why a review is not one the API server would send to this handler:
// no uid (a body without a request decodes to an empty one), another kind than want, or no
// object for a CREATE or UPDATE. Such a review is answered with an error, never allowed.
func malformedRequest(req admission.Request, want metav1.GroupVersionKind) error {
	switch {
	case req.UID == "":
		return fmt.Errorf("%w: no request uid", errMalformed)
	case req.Kind != want:
		return fmt.Errorf("%w: kind %s, this path reviews %s", errMalformed, kindString(req.Kind), kindString(want))
	case (req.Operation == admissionv1.Create || req.Operation == admissionv1.Update) && len(req.Object.Raw) == 0:
		return fmt.Errorf("%w: %s without an object", errMalformed, req.Operation)
	}
	return nil
}

func kindString(k metav1.GroupVersionKind) string {
	if k.Group == "" {
		return k.Version + "/" + k.Kind
	}
	return k.Group + "/" + k.Version + "/" + k.Kind
}

// malformed answers a malformed review with a 400 error, counted and logged as an error.
func malformed(ctx context.Context, webhook string, req admission.Request, err error) admission.Response {
	return decided(ctx, webhook, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
}

// bounded runs a lookup with a deadline of d, and names the bound in the error when it is hit.
func bounded(ctx context.Context, d time.Duration, what string, get func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := get(ctx)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%s: no answer from the API server within %s: %w", what, d, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
