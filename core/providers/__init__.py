"""The provider catalogue: which upstream APIs Quotagate knows, how to reach them, what they cost."""

from core.providers.catalog import (
    CatalogError,
    CatalogModel,
    ModelPrice,
    Provider,
    cost_usd,
    get_provider,
    price_for,
    providers,
    split_model_name,
    upstream_auth_headers,
    validate_price_override,
)

__all__ = [
    "CatalogError",
    "CatalogModel",
    "ModelPrice",
    "Provider",
    "cost_usd",
    "get_provider",
    "price_for",
    "providers",
    "split_model_name",
    "upstream_auth_headers",
    "validate_price_override",
]
