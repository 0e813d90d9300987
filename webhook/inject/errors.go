package inject

import "errors"

// ErrInvalidAnnotation is wrapped by every error about a metrics-proxy.io annotation's value.
// The webhook denies such objects; the CLI reports them and exits with status 1.
var ErrInvalidAnnotation = errors.New("invalid metrics-proxy annotation")

// ErrDecode is wrapped by every error about an object that cannot be decoded.
var ErrDecode = errors.New("cannot decode object")
