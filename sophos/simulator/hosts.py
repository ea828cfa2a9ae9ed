"""The map from API role (token, global, data region) to the origin serving it."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Sophos Central data regions; the common API's server variable lists the same
# nine codes.
REGIONS: tuple[str, ...] = (
    "eu01",
    "eu02",
    "us01",
    "us03",
    "ca01",
    "au01",
    "jp01",
    "br01",
    "in01",
)

TOKEN_PATH = "/api/v2/oauth2/token"  # noqa: S105 (a URL path)


def normalize_origin(url: str) -> str:
    """Return ``scheme://host[:port]`` in lower case, without a default port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or (scheme, port) in {("http", 80), ("https", 443)}:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class HostRoles:
    """The API roles served by one origin."""

    token: bool = False
    global_api: bool = False
    region: str | None = None


@dataclass(frozen=True)
class HostMap:
    """Origins (``scheme://host[:port]``, no trailing slash) of each API host."""

    token_origin: str
    global_origin: str
    regions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def real(cls) -> HostMap:
        """Return the production host names, as the in-process transport uses."""
        return cls(
            token_origin="https://id.sophos.com",  # noqa: S106
            global_origin="https://api.central.sophos.com",
            regions={r: f"https://api-{r}.central.sophos.com" for r in REGIONS},
        )

    @classmethod
    def loopback(
        cls,
        port: int,
        host: str = "127.0.0.1",
        regions: tuple[str, ...] = REGIONS,
    ) -> HostMap:
        """Return token and global on ``port`` and region i on ``port + 1 + i``."""
        base = f"http://{host}:{port}"
        return cls(
            token_origin=base,
            global_origin=base,
            regions={r: f"http://{host}:{port + 1 + i}" for i, r in enumerate(regions)},
        )

    @property
    def token_url(self) -> str:
        return self.token_origin + TOKEN_PATH

    def region_origin(self, region: str) -> str:
        try:
            return self.regions[region]
        except KeyError:
            raise ValueError(
                f"region {region!r} has no host in this host map"
            ) from None

    def roles(self, origin: str) -> HostRoles | None:
        """Return what ``origin`` serves, or None when it is not a simulator host."""
        origin = normalize_origin(origin)
        region = next((r for r, o in self.regions.items() if o == origin), None)
        token = normalize_origin(self.token_origin) == origin
        global_api = normalize_origin(self.global_origin) == origin
        if not (token or global_api or region):
            return None
        return HostRoles(token=token, global_api=global_api, region=region)

    def origins(self) -> list[str]:
        found = [self.token_origin, self.global_origin, *self.regions.values()]
        return list(dict.fromkeys(found))
