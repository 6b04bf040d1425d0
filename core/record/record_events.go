package record

// EventKind says what a write did.
type EventKind int

// Kinds of record events; they combine as bits like the collection trigger's mode.
const (
	EventCreate  EventKind = 1
	EventUpdate  EventKind = 2
	EventDestroy EventKind = 4
)

func (k EventKind) String() string {
	switch k {
	case EventCreate:
		return "create"
	case EventUpdate:
		return "update"
	case EventDestroy:
		return "destroy"
	}
	return "unknown"
}

// RecordEvent is handed to record listeners inside the transaction of every write.
type RecordEvent struct {
	Collection *Collection
	Kind       EventKind
	// Record is the record after the write; for destroy, the record removed.
	Record Record
	// Previous is the record before an update.
	Previous Record
	// Origin is what the writer passed in WriteOptions (e.g. a workflow execution stack).
	Origin any
}

// RecordListener sees every write to every collection, inside its transaction; an error
// aborts the write.
type RecordListener func(tx *Tx, ev *RecordEvent) error

func (d *Data) emit(tx *Tx, ev *RecordEvent) error {
	for _, l := range d.listeners {
		if err := l(tx, ev); err != nil {
			return err
		}
	}
	return nil
}
