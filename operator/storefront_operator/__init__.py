"""The Storefront operator. `kopf run --module=storefront_operator` registers the handlers from here."""
from . import handlers  # noqa: F401  (kopf finds handlers by importing this package)
