package kafka

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
)

// The SCRAM mechanisms (RFC 5802, RFC 7677), by their names on the wire.
const (
	SCRAMSHA256 = "SCRAM-SHA-256"
	SCRAMSHA512 = "SCRAM-SHA-512"
)

// DefaultSCRAMIterations is the iteration count NewSCRAMCredential uses for
// 0, and the one the server salts Users' passwords with: Kafka's minimum, 4096.
const DefaultSCRAMIterations = 4096

// SCRAMCredential is a user's SCRAM credential as a server stores it (RFC 5802
// section 3): enough to check a client's proof, not to recover the password or to
// pose as the user.
type SCRAMCredential struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte // H(HMAC(SaltedPassword, "Client Key"))
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key")
}

// The iteration counts Kafka accepts for a SCRAM credential
// (ScramMechanism.minIterations, ScramControlManager.MAX_ITERATIONS).
const (
	minSCRAMIterations = 4096
	maxSCRAMIterations = 16384
)

// NewSCRAMCredential salts password for mechanism (SCRAMSHA256 or SCRAMSHA512)
// with a new random salt, iterations times (0: DefaultSCRAMIterations; Kafka
// accepts 4096 to 16384).
func NewSCRAMCredential(mechanism, password string, iterations int) (SCRAMCredential, error) {
	newHash := scramHash(mechanism)
	if newHash == nil {
		return SCRAMCredential{}, fmt.Errorf("%w: %q is not a SCRAM mechanism", ErrInvalidCredential, mechanism)
	}
	if iterations == 0 {
		iterations = DefaultSCRAMIterations
	}
	if iterations < minSCRAMIterations || iterations > maxSCRAMIterations {
		return SCRAMCredential{}, fmt.Errorf("%w: %d SCRAM iterations: want %d to %d", ErrInvalidCredential, iterations, minSCRAMIterations, maxSCRAMIterations)
	}
	salt := make([]byte, 32)
	rand.Read(salt)
	saltedPassword, err := pbkdf2.Key(newHash, password, salt, iterations, newHash().Size())
	if err != nil {
		return SCRAMCredential{}, err
	}
	return scramCredentialFromSaltedPassword(newHash, salt, saltedPassword, iterations), nil
}

// scramCredentialFromSaltedPassword derives the stored credential from a salted
// password (Hi(password, salt, iterations)), as Kafka's ScramFormatter does for
// AlterUserScramCredentials, whose clients send the salted password.
func scramCredentialFromSaltedPassword(newHash func() hash.Hash, salt, saltedPassword []byte, iterations int) SCRAMCredential {
	return SCRAMCredential{
		Salt: slices.Clone(salt), Iterations: iterations,
		StoredKey: storedKeyOf(newHash, saltedPassword), ServerKey: hmacOf(newHash, saltedPassword, []byte("Server Key")),
	}
}

// storedKeyOf returns H(HMAC(saltedPassword, "Client Key")).
func storedKeyOf(newHash func() hash.Hash, saltedPassword []byte) []byte {
	storedKey := newHash()
	storedKey.Write(hmacOf(newHash, saltedPassword, []byte("Client Key")))
	return storedKey.Sum(nil)
}

// clone returns a copy of c that shares no bytes with it.
func (c SCRAMCredential) clone() SCRAMCredential {
	return SCRAMCredential{Salt: slices.Clone(c.Salt), Iterations: c.Iterations, StoredKey: slices.Clone(c.StoredKey), ServerKey: slices.Clone(c.ServerKey)}
}

// verifyPassword reports whether password is the one c was made from for
// mechanism: the password salted with c's salt and iterations gives c's
// StoredKey (compared in constant time). This is how PLAIN is checked against
// SCRAM credentials.
func (c SCRAMCredential) verifyPassword(mechanism, password string) bool {
	newHash := scramHash(mechanism)
	if newHash == nil || c.Iterations < 1 || c.Iterations > maxSCRAMIterations {
		return false
	}
	saltedPassword, err := pbkdf2.Key(newHash, password, c.Salt, c.Iterations, newHash().Size())
	if err != nil {
		return false
	}
	return hmac.Equal(storedKeyOf(newHash, saltedPassword), c.StoredKey)
}

// scramHash returns the hash of a SCRAM mechanism, or nil.
func scramHash(mechanism string) func() hash.Hash {
	switch mechanism {
	case SCRAMSHA256:
		return sha256.New
	case SCRAMSHA512:
		return sha512.New
	}
	return nil
}

func hmacOf(newHash func() hash.Hash, key, message []byte) []byte {
	mac := hmac.New(newHash, key)
	mac.Write(message)
	return mac.Sum(nil)
}

// scramFailed is Kafka's message for any SCRAM authentication refused.
func scramFailed(mechanism string) error {
	return errors.New("Authentication failed during authentication due to invalid credentials with SASL mechanism " + mechanism)
}

// scramSession is the server's side of SCRAM: the client's first message
// ("n,,n=user,r=nonce") is answered with the nonce extended, the salt and the
// iterations; the client's final message ("c=...,r=nonce,p=proof") is checked
// against the stored credential and answered with the server's signature.
type scramSession struct {
	config    *SASL
	mechanism string
	newHash   func() hash.Hash

	messages        int // client messages so far
	username        string
	credential      SCRAMCredential
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string
}

func (s *scramSession) user() string { return s.username }

func (s *scramSession) step(token []byte) ([]byte, bool, error) {
	s.messages++
	switch s.messages {
	case 1:
		return s.clientFirst(string(token))
	case 2:
		return s.clientFinal(string(token))
	}
	return nil, false, fmt.Errorf("%w: SCRAM exchange already over", ErrMalformedRequest)
}

func (s *scramSession) clientFirst(message string) ([]byte, bool, error) {
	// gs2-header: "n," (no channel binding) or "y,", then an optional
	// "a=authzid", then ","; channel binding ("p=") is not served.
	parts := strings.SplitN(message, ",", 3)
	if len(parts) != 3 || (parts[0] != "n" && parts[0] != "y") {
		return nil, false, scramFailed(s.mechanism)
	}
	s.gs2Header = parts[0] + "," + parts[1] + ","
	s.clientFirstBare = parts[2]
	attributes := strings.Split(s.clientFirstBare, ",")
	if len(attributes) < 2 || !strings.HasPrefix(attributes[0], "n=") || !strings.HasPrefix(attributes[1], "r=") || len(attributes[1]) == 2 {
		return nil, false, scramFailed(s.mechanism)
	}
	user, ok := unescapeSCRAMName(attributes[0][2:])
	if !ok {
		return nil, false, scramFailed(s.mechanism)
	}
	if parts[1] != "" && parts[1] != "a="+attributes[0][2:] {
		return nil, false, errors.New("Authentication failed: Client requested an authorization id that is different from username")
	}
	for _, extension := range attributes[2:] {
		if extension == "tokenauth=true" { // KIP-48 delegation tokens: none here
			return nil, false, scramFailed(s.mechanism)
		}
	}
	credential, ok := s.config.scramCredential(s.mechanism, user)
	if !ok {
		return nil, false, scramFailed(s.mechanism)
	}
	serverNonce := make([]byte, 24)
	rand.Read(serverNonce)
	s.username, s.credential = user, credential
	s.nonce = attributes[1][2:] + base64.RawStdEncoding.EncodeToString(serverNonce)
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(credential.Salt) +
		",i=" + strconv.Itoa(credential.Iterations)
	return []byte(s.serverFirst), false, nil
}

func (s *scramSession) clientFinal(message string) ([]byte, bool, error) {
	proofAt := strings.LastIndex(message, ",p=")
	if proofAt < 0 {
		return nil, false, scramFailed(s.mechanism)
	}
	withoutProof := message[:proofAt]
	attributes := strings.Split(withoutProof, ",")
	if len(attributes) < 2 ||
		attributes[0] != "c="+base64.StdEncoding.EncodeToString([]byte(s.gs2Header)) ||
		attributes[1] != "r="+s.nonce {
		return nil, false, scramFailed(s.mechanism)
	}
	proof, err := base64.StdEncoding.DecodeString(message[proofAt+3:])
	if err != nil || len(proof) != len(s.credential.StoredKey) {
		return nil, false, scramFailed(s.mechanism)
	}
	authMessage := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	clientKey := hmacOf(s.newHash, s.credential.StoredKey, authMessage) // ClientSignature
	for i := range clientKey {
		clientKey[i] ^= proof[i] // ClientKey = ClientProof XOR ClientSignature
	}
	storedKey := s.newHash()
	storedKey.Write(clientKey)
	if !hmac.Equal(storedKey.Sum(nil), s.credential.StoredKey) {
		return nil, false, scramFailed(s.mechanism)
	}
	serverSignature := hmacOf(s.newHash, s.credential.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature)), true, nil
}

// unescapeSCRAMName decodes a saslname (RFC 5802): "=2C" is ",", "=3D" is "=",
// any other "=" is invalid.
func unescapeSCRAMName(name string) (string, bool) {
	if !strings.Contains(name, "=") {
		return name, true
	}
	var b bytes.Buffer
	for i := 0; i < len(name); i++ {
		if name[i] != '=' {
			b.WriteByte(name[i])
			continue
		}
		switch {
		case strings.HasPrefix(name[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(name[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}
