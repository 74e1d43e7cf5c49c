package sdk

// State is a client's connection state.
type State string

// The states a client goes through: connecting -> open, then reconnecting
// (and back to open) on failures, and closed for good.
const (
	StateConnecting   State = "connecting"
	StateOpen         State = "open"
	StateReconnecting State = "reconnecting"
	StateClosed       State = "closed"
)

// StateChange is what state listeners receive.
type StateChange struct {
	State     State
	Attempt   int      // reconnect attempts since the stream was last healthy
	NextDelay Duration // delay before the next attempt, when reconnecting
	Status    int      // HTTP status of the last failure, 0 when unknown
	LastError string   // why the last attempt failed, "" when none
}
