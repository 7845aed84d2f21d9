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
// # Several brokers
//
// Serve serves the whole store at one address: a store of several in-process
// brokers (log.InitBrokers, the replica layer) is then reported with its real
// leaders, replicas and ISR, but every broker at that address. To serve it as a
// Kafka cluster, give each broker its own listener:
//
//	listeners := map[replica.BrokerID]net.Listener{0: ln0, 1: ln1, 2: ln2}
//	err = kafka.ServeBrokers(ctx, listeners, store, &kafka.Options{
//		BrokerAddrs: map[replica.BrokerID]string{0: "kafka-0:9092", 1: "kafka-1:9092", 2: "kafka-2:9092"},
//	})
//
// or Server.ServeBroker(id, ln) for each. A broker's listener serves its view
// of the store (log.Store.Broker, a *log.ServingBroker), as a Kafka broker:
//
//   - Metadata (every version), DescribeCluster and FindCoordinator give each
//     broker at its own address: Options.BrokerAddrs' (its
//     advertised.listeners), else the address its listener is bound to (the
//     host the client reached if bound to every interface); a broker with
//     neither is not listed. A stopped broker is left out of Metadata (listed
//     as fenced by DescribeCluster when asked), its replicas are offline
//     replicas, and the partitions it led have the leaders the store elected.
//     The controller named is the first online broker: strata's controller is
//     in process, not a broker, and every broker takes admin requests.
//   - Produce, Fetch, ListOffsets, OffsetForLeaderEpoch and DeleteRecords of a
//     partition the broker does not lead answer NOT_LEADER_OR_FOLLOWER, at once
//     (a long-poll Fetch too), and write nothing; Produce v10+ and Fetch v12+
//     carry KIP-951's hints (the current leader, its epoch and address).
//   - The store has one group coordinator and one transaction coordinator, in
//     process, which keep their state in partition 0 of log.OffsetsTopic and of
//     log.TransactionStateTopic and write it through that partition's leader,
//     wherever it moves. The broker leading that partition is the coordinator:
//     FindCoordinator answers it, and group and transaction requests sent to
//     another broker answer NOT_COORDINATOR (ListGroups and ListTransactions
//     there: an empty list, as a Kafka broker lists the groups it coordinates).
//     After a failover the new leader answers for the same groups, with their
//     members and generations kept: members find it again and carry on. An
//     idempotent producer's InitProducerId is answered by every broker.
//   - DescribeLogDirs describes the broker's own directory only.
//   - A broker that is not online (log.Store.StopBroker) answers nothing, as a
//     Kafka broker that is down: its connections are reset as it stops, those
//     with a request in flight included (whose outcome is then unknown to the
//     client, as when a Kafka broker dies); its listener stays open (to answer
//     again after StartBroker) but resets each connection it accepts, and a
//     connection is reset instead of answering a request. Clients see a reset
//     connection, refresh their metadata, and move to the new leaders.
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
// Fetch keeps Kafka's fetch sessions (KIP-227): a full fetch opens one, and the
// client's incremental fetches then carry only the partitions whose position
// changed and are answered only the partitions with news. Sessions belong to the
// server, not to a connection; Options.FetchSessionCacheSlots bounds them (Kafka's
// max.incremental.fetch.session.cache.slots).
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
// larger than M)"); a smaller one is allocated as its bytes come, so that a
// prefix alone costs what was sent. A request that does not decode, of an API or version not
// served, closes its connection and nothing else; so does a handler's panic. An
// ApiVersions request of a version above the served ones gets, as from Kafka, a
// version 0 response with UNSUPPORTED_VERSION and the served versions, so that a
// newer client downgrades. A connection idle for longer than
// Options.ConnectionsMaxIdle (Kafka's connections.max.idle.ms, 10 minutes by
// default) is closed; idle time starts at a response, never during a request.
//
// # Fetch
//
// A Fetch response's record batches are never copied into it: on Linux, over a
// plain TCP connection, from a store on the OS filesystem, they go from the
// segment files to the socket with sendfile(2) (log.FetchResult.File), the
// fields around them encoded by the server (versions 4 to 12, byte for byte as
// kmsg encodes them); otherwise (TLS, other platforms, a memory filesystem) they
// are written from the segments' memory mappings. Server.FetchStats counts both.
// The bytes sent are those fetched whatever retention, compaction or a
// truncation do to the segment meanwhile.
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
