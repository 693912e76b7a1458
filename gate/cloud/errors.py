"""The one boundary where Google API errors become the gate's errors.

* permission denied: names the role the gate's account lacks, exit 3;
* not found: the project, region, service or revision given is wrong, exit 2;
* an etag conflict: someone changed the service while the gate ran; nothing
  was overwritten, exit 3 (:class:`EtagConflict`);
* throttled (``RESOURCE_EXHAUSTED``: a quota shared by the project's readers),
  unreachable, timed out, or any other API failure: exit 3, saying how many
  attempts a read made.

No traceback is printed for any of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from gate.errors import ConfigError, GateFailure


class EtagConflict(GateFailure):
    """The service changed between the gate's read and its update."""


MISSING = "check --project, --region, --service and --revision"
"""What to do about a resource the API says does not exist, unless a call says otherwise."""


@contextlib.contextmanager
def api_call(
    action: str, role: str, missing: str = MISSING, tried: Callable[[], str] = lambda: ""
) -> Iterator[None]:
    """Map the exceptions of one Google API call (``action``) needing ``role``.

    ``tried`` says how often a retried read was attempted (``" after 3 attempts
    over 9.5 s"``), for the messages of the errors that are retried.
    """
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    try:
        yield
    except (gexc.PermissionDenied, gexc.Forbidden) as exc:  # gRPC's and REST's 403
        raise GateFailure(
            f"{action}: permission denied ({exc.message}): grant the gate's service account "
            f"{role} on the project"
        ) from None
    except gexc.NotFound as exc:
        raise ConfigError(f"{action}: not found ({exc.message}): {missing}") from None
    except (gexc.Aborted, gexc.FailedPrecondition) as exc:
        if "etag" in str(exc.message).lower() or isinstance(exc, gexc.Aborted):
            raise EtagConflict(
                f"{action}: the service was changed by someone else while the gate ran "
                "(etag mismatch); nothing was overwritten: inspect the service and re-run"
            ) from None
        raise GateFailure(f"{action}: refused ({exc.message})") from None
    except (gexc.Unauthenticated, gexc.Unauthorized) as exc:  # gRPC's and REST's 401
        raise GateFailure(
            f"{action}: not authenticated ({exc.message}): run in a job with a service "
            "account, or `gcloud auth application-default login`"
        ) from None
    except gexc.ResourceExhausted as exc:
        raise GateFailure(
            f"{action}: the API's quota is exhausted ({exc.message}){tried()}: the project's "
            "read quota is shared by every reader (the Logs Explorer too); raise --deadline "
            "to wait longer, or ask for a higher quota"
        ) from None
    except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.RetryError) as exc:
        raise GateFailure(
            f"{action}: the API is unreachable ({exc}){tried()}: check the network and retry"
        ) from None
    except gexc.InternalServerError as exc:
        raise GateFailure(f"{action}: the API failed ({exc}){tried()}") from None
    except gexc.GoogleAPIError as exc:
        raise GateFailure(f"{action}: the API failed ({exc})") from None
    except auth_exc.GoogleAuthError as exc:
        raise GateFailure(
            f"{action}: no usable Google credentials ({exc}): set "
            "GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`"
        ) from None
