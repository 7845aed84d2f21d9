// Package kafka serves a strata store (log.Store) over Kafka's wire protocol, so
// that unmodified Kafka clients and tools can use a store that a Go program
// embeds. franz-go's kmsg is the codec.
//
// # Usage
//
//	store, err := log.Open("data", nil)
//	...
//	defer store.Close()
//	ln, err := net.Listen("tcp", "127.0.0.1:9092")
//	...
//	err = kafka.Serve(ctx, ln, store, &kafka.Options{AdvertisedAddr: "kafka.internal:9092"})
//
// Serve returns when ctx ends, after a graceful shutdown. For more control, a
// Server (NewServer) serves any number of listeners (Server.Serve) until
// Server.Shutdown (graceful) or Server.Close (at once).
//
// # What is served
//
// The server serves Produce, Fetch, InitProducerId and OffsetForLeaderEpoch;
// the APIs an admin client needs: ApiVersions, Metadata, CreateTopics,
// DeleteTopics, CreatePartitions, DeleteRecords, ListOffsets, DescribeConfigs,
// AlterConfigs, IncrementalAlterConfigs, DescribeCluster, DescribeLogDirs and
// ElectLeaders, and the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls)
// answered as a broker without an authorizer (SECURITY_DISABLED); consumer
// groups: FindCoordinator, JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete, ListGroups,
// DescribeGroups and DeleteGroups; and transactions: AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, TxnOffsetCommit, DescribeTransactions and
// ListTransactions; SaslHandshake and SaslAuthenticate, and the SCRAM user
// APIs DescribeUserScramCredentials and AlterUserScramCredentials; at every version from Kafka 2.1's (the floor Kafka 4 keeps,
// KIP-896) to what kmsg knows; ApiVersions advertises exactly those (the apis
// table). README.md lists them with their versions and what comes next. The
// versions that name topics by topic ID (Metadata v10+, DeleteTopics v6,
// Produce v13, Fetch v13+, OffsetCommit and OffsetFetch v10) use the store's
// topic IDs (log.TopicID); an ID no topic has is UNKNOWN_TOPIC_ID.
//
// # Groups
//
// Groups are the store's own group coordinator (log.Store.GroupCoordinator), so
// that a Kafka client and an in-process log.GroupConsumer can be members of one
// group. Each group request is one call of the coordinator; its errors map one to
// one to Kafka's codes (group.ErrUnknownMemberID is UNKNOWN_MEMBER_ID, and so on;
// a closed store is COORDINATOR_NOT_AVAILABLE). A JoinGroup or SyncGroup that
// must wait for the rest of its group blocks its connection until the
// coordinator answers, as on Kafka, where a connection's requests are answered in
// order; a shutdown ends the wait with NOT_COORDINATOR.
//
// # Connections
//
// Each connection has one goroutine, which reads a request, handles it, writes
// the response and only then reads the next: pipelined requests are answered in
// order, as by a Kafka broker, which mutes a connection while a request is in
// flight. On the wire (big-endian):
//
//	request:  size int32 | api key int16 | version int16 | correlation id int32 |
//	          client id (int16 length, -1 null) | [tagged fields] | body
//	response: size int32 | correlation id int32 | [tagged fields] | body
//
// The tagged fields are there for flexible versions, except in ApiVersions'
// response header. A size above Options.MaxRequestBytes (Kafka's
// socket.request.max.bytes) is refused from the 4-byte prefix alone, before
// anything is allocated, with Kafka's log line ("Invalid receive (size = N
// larger than M)"). A request that does not decode, of an API or version not
// served, closes its connection and nothing else; so does a handler's panic. An
// ApiVersions request of a version above the served ones gets, as from Kafka, a
// version 0 response with UNSUPPORTED_VERSION and the served versions, so that a
// newer client downgrades. A connection idle for longer than
// Options.ConnectionsMaxIdle (Kafka's connections.max.idle.ms, 10 minutes by
// default) is closed; idle time starts at a response, never during a request.
//
// # TLS and SASL
//
// Serve takes any net.Listener: a tls.NewListener serves TLS (Kafka's SSL
// listener). Options.SASL makes every connection authenticate before any request
// but ApiVersions, SaslHandshake and SaslAuthenticate (Kafka's SASL_PLAINTEXT,
// or SASL_SSL on a TLS listener), with SCRAM-SHA-512 and SCRAM-SHA-256 (RFC
// 5802, RFC 7677: against salted credentials, SCRAMCredential, never
// passwords) and PLAIN, against a user table (Users, salted by NewServer for
// SCRAM), lookups (Password, SCRAMCredentials), or a credential store
// (Options.Credentials, OpenCredentials: a checksummed file, changed while
// serving by AlterUserScramCredentials or by another process such as
// `strata-kafka users`, each change seen at the next authentication; PLAIN is
// then checked against the user's SCRAM credential). As on Kafka, another request before authentication, a
// mechanism not served (UNSUPPORTED_SASL_MECHANISM) and refused credentials
// (SASL_AUTHENTICATION_FAILED) close the connection once answered; a request is
// limited to 512 KiB until the connection has authenticated (Kafka's
// sasl.server.max.receive.size). With Options.ConnectionsMaxReauth (Kafka's
// connections.max.reauth.ms, KIP-368), a session ends after that long: the
// client re-authenticates on the connection (SaslHandshake and
// SaslAuthenticate, as the same user with the same mechanism), and a request
// after the end closes the connection. Without it, sessions do not end.
//
// # Ownership and concurrency
//
// The caller owns the store: the server never closes it, and it must stay open
// until Shutdown or Close has returned. Serve, Shutdown and Close may be called
// from any goroutine; Shutdown and Close wait for every connection goroutine.
package kafka
