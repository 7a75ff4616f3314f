/**
 * The child process of a `python` version, run by the version's venv python with the version's
 * folder as its working directory. It speaks JSON lines on the stdout it was started with
 * (`{"id", "body"}` in, `{"id", "ok", "json"}` or `{"id", "ok": false, "kind", "message"}` out);
 * the handler's own prints go to stderr, the version's log. The memory limit is the address
 * space (RLIMIT_AS): a handler that exceeds it gets MemoryError, answered as kind "memory".
 */
export const PYTHON_RUNNER = String.raw`
import importlib.util, json, os, resource, sys

proto = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

def send(message):
    proto.write(json.dumps(message) + "\n")
    proto.flush()

limit = int(os.environ.get("MLVC_MEMORY_BYTES") or 0)
max_out = int(os.environ.get("MLVC_RESPONSE_BYTES") or 0)
entry = os.environ["MLVC_ENTRY"]
name = os.environ.get("MLVC_FUNCTION") or "predict"
try:
    sys.path.insert(0, os.path.dirname(entry))
    spec = importlib.util.spec_from_file_location("handler", entry)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise LookupError(os.environ.get("MLVC_ENTRY_NAME", entry) + ' defines no function "' + name + '"')
except BaseException as e:
    send({"type": "fatal", "message": type(e).__name__ + ": " + str(e)})
    sys.exit(1)
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
send({"type": "ready"})
for line in sys.stdin:
    call = json.loads(line)
    cid = call["id"]
    try:
        value = fn(json.loads(call["body"]))
    except MemoryError:
        value = None
        send({"id": cid, "ok": False, "kind": "memory", "message": "the handler ran out of memory (limits.memoryMb)"})
        continue
    except Exception as e:
        send({"id": cid, "ok": False, "kind": "throw", "message": type(e).__name__ + ": " + str(e)})
        continue
    try:
        out = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        send({"id": cid, "ok": False, "kind": "output", "message": "returned a value that is not JSON (" + str(e) + ")"})
        continue
    if max_out and len(out.encode()) > max_out:
        send({"id": cid, "ok": False, "kind": "output", "message": "returned " + str(len(out.encode())) + " bytes of JSON, more than limits.responseBytes (" + str(max_out) + ")"})
    else:
        send({"id": cid, "ok": True, "json": out})
`
