"""Reading builds from a Chroma server over its HTTP API, with httpx and without chromadb.

A serving worker only reads: which build is in service, the build's records, and (for a build
too large to search in memory, and for /health) a nearest-neighbour query. chromadb's client
costs a worker about 36 MB and 490 modules to import; these few requests of Chroma's v2 API
need only httpx, which the web server has already loaded. Building (``chroma_server.build_index``)
keeps chromadb's own client, which LangChain's Chroma wraps.
"""

from __future__ import annotations

from typing import Any

import httpx

from assistant.errors import IndexBuildError

# Every collection of ours is in Chroma's default tenant and database (chromadb's defaults).
API = "/api/v2"
DATABASE = API + "/tenants/default_tenant/databases/default_database"
# Reads carry a few MB at most (see chroma_server.READ_BATCH); a server this slow is down.
TIMEOUT_SECONDS = 30.0


class ChromaRestError(IndexBuildError):
    """A request to the Chroma server failed: unreachable, or an error answer (``status``).

    Callers in ``chroma_server`` say which server and what to do, in an IndexBuildError of their own."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CollectionNotFound(ChromaRestError):
    """The server has no collection of that name."""


class ChromaReader:
    """The read side of a Chroma server at ``url`` (http(s)://host:port). Close it when done."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def __enter__(self) -> ChromaReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def heartbeat(self) -> int:
        """The server's clock in nanoseconds; ChromaRestError if it does not answer as Chroma."""
        return int(self.request("GET", API + "/heartbeat")["nanosecond heartbeat"])

    def collection(self, name: str) -> RemoteCollection:
        """The collection called ``name``; CollectionNotFound if there is none."""
        got = self.request("GET", f"{DATABASE}/collections/{name}")
        return RemoteCollection(self, name, str(got["id"]))

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request; its JSON answer, or ChromaRestError with the server's own message."""
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ChromaRestError(f"{type(exc).__name__}: {exc}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.is_success and answer is not None:
            return answer
        if not isinstance(answer, dict) or "error" not in answer:  # a web page, a proxy's error
            raise ChromaRestError(
                f"HTTP {response.status_code} from {path}, which is not an answer from Chroma",
                response.status_code,
            )
        error = CollectionNotFound if response.status_code == 404 else ChromaRestError
        detail = f"{answer['error']}: {answer.get('message', '')}"
        raise error(f"HTTP {response.status_code} from {path} ({detail})", response.status_code)


class RemoteCollection:
    """A collection on the server, read with ``get`` and ``query`` as chromadb's Collection is."""

    def __init__(self, reader: ChromaReader, name: str, id: str) -> None:
        self.reader = reader
        self.name = name
        self.id = id

    def get(self, ids: list[str], include: list[str]) -> dict[str, Any]:
        """The records ``ids`` with the fields ``include`` ("documents", "embeddings", "metadatas")."""
        return self._post("get", {"ids": ids, "include": include})

    def query(
        self, query_embeddings: list[list[float]], n_results: int,
        where: dict[str, Any] | None = None, include: list[str] | None = None,
    ) -> dict[str, Any]:
        """The ``n_results`` nearest records to each vector (Chroma's HNSW index)."""
        vectors = [[float(x) for x in vector] for vector in query_embeddings]
        body = {"query_embeddings": vectors, "n_results": n_results, "where": where,
                "include": include or ["metadatas", "distances"]}
        return self._post("query", body)

    def _post(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.reader.request("POST", f"{DATABASE}/collections/{self.id}/{action}", body))
