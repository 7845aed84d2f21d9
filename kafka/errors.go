package kafka

import "errors"

var (
	// ErrServerClosed is what Serve returns after Shutdown or Close.
	ErrServerClosed = errors.New("strata/kafka: server closed")
	// ErrInvalidOptions is matched by the *OptionsError of invalid Options.
	ErrInvalidOptions = errors.New("strata/kafka: invalid options")
	// ErrRequestTooLarge is a length prefix above Options.MaxRequestBytes (or a
	// negative one): the connection is closed.
	ErrRequestTooLarge = errors.New("strata/kafka: request too large")
	// ErrMalformedRequest is a request that cannot be decoded, of an API or version
	// the server does not serve, or that breaks the protocol: the connection is
	// closed.
	ErrMalformedRequest = errors.New("strata/kafka: malformed request")
)
