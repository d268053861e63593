"""The Hugging Face Hub: the only module of `gan` that touches the network.

Every failure of the client (no such repo, gated or private repo without a token,
missing file, offline, dropped connection) becomes a HubError with a message a
visitor can act on. Tokens are passed explicitly and never logged or echoed.
"""

from __future__ import annotations

from pathlib import Path

from gan.errors import HubError


def download_file(
    repo_id: str,
    filename: str,
    revision: str | None = None,
    token: str | None = None,
    repo_type: str = "model",
) -> Path:
    """Fetch one file of a repo into the local Hugging Face cache and return its path."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}/{filename}" + (f"@{revision}" if revision else "")
    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision, token=token or None, repo_type=repo_type))
    except HFValidationError as error:
        raise HubError(f"{repo_id!r} is not a valid repo id (expected 'owner/name')") from error
    except GatedRepoError as error:
        raise HubError(f"{repo_id} is gated: accept its terms on the Hub and use a token") from error
    except RepositoryNotFoundError as error:
        raise HubError(f"repo {repo_id} was not found, or is private and needs a token") from error
    except RevisionNotFoundError as error:
        raise HubError(f"revision {revision!r} of {repo_id} was not found") from error
    except LocalEntryNotFoundError as error:
        raise HubError(f"cannot reach the Hub to fetch {where}, and it is not in the local cache") from error
    except EntryNotFoundError as error:
        raise HubError(f"{where} does not exist") from error
    except HfHubHTTPError as error:
        status = getattr(error.response, "status_code", "?")
        raise HubError(f"the Hub answered {status} for {where}") from error
    except OSError as error:  # connection dropped mid-download, disk full...
        raise HubError(f"downloading {where} failed: {error.__class__.__name__}") from error
