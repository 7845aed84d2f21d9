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

// Errors of the SCRAM credential store (Credentials).
var (
	// ErrInvalidCredential is a credential a caller gave that cannot be stored: a
	// mechanism other than SCRAM-SHA-256 and SCRAM-SHA-512, an empty user name,
	// iterations outside 4096 to 16384, an empty salt or keys of the wrong size.
	ErrInvalidCredential = errors.New("strata/kafka: invalid SCRAM credential")
	// ErrCredentialNotFound is a deletion of a credential the store does not
	// hold.
	ErrCredentialNotFound = errors.New("strata/kafka: SCRAM credential not found")
	// ErrCorruptCredentials is a credential file that does not read (bad
	// checksum, JSON or values, or too large): nothing is authenticated against
	// it, and it is not overwritten.
	ErrCorruptCredentials = errors.New("strata/kafka: corrupt SCRAM credential file")
)
