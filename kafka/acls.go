package kafka

// The ACL APIs (DescribeAcls, CreateAcls, DeleteAcls) are answered as a Kafka
// broker without an authorizer answers them: SECURITY_DISABLED with Kafka's
// message. Their handlers are in describe_acls.go, create_acls.go and
// delete_acls.go.

// noAuthorizer is the message Kafka sends with SECURITY_DISABLED.
const noAuthorizer = "No Authorizer is configured."
