package log

// pollExpired returns a channel closed once the application has not called Poll
// within MaxPollInterval (nil: never).
func (g *GroupConsumer) pollExpired() <-chan struct{} { return nil }
