"""Request bodies, query strings and response objects of the orders API."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from storefront_common.pagination import PageQuery
from storefront_common.validation import Body

# ISO 3166-1 alpha-2, upper case (from Debian's iso-codes), so "ZZ" is refused, not shipped to.
COUNTRY_CODES = tuple("""
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
""".split())
Country = Literal[COUNTRY_CODES]  # type: ignore[valid-type]
OrderStatusName = Literal["pending", "paid", "shipped", "delivered", "cancelled"]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalLine = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ()-]{4,24}$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class ShippingAddress(Body):
    line1: Line
    line2: OptionalLine | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    state: Short | None = None
    postal_code: PostalCode | None = None
    country: Country = Field(description="ISO 3166-1 alpha-2 code, upper case")
    phone: Phone | None = None


class CheckoutIn(Body):
    shipping_address: ShippingAddress
    payment_method: Literal["wallet", "paystack"]


class StatusIn(Body):
    status: Literal["shipped", "delivered"]


class OrderQuery(PageQuery):
    status: OrderStatusName | None = None
    scope: Literal["mine", "vendor", "all"] = Field(
        default="mine", description="mine: the caller's orders; vendor (vendor role): orders with the "
                                    "caller's products; all (admin): every order")


class PaymentEventIn(Body):
    event: Literal["payment.succeeded", "payment.failed", "payment.refunded"]
    reference: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    amount: int = Field(ge=0, le=10**15)
    currency: CurrencyCode


class OrderItemOut(BaseModel):
    product_id: uuid.UUID
    name: str
    unit_price: int
    quantity: int
    line_total: int
    vendor_id: uuid.UUID


class PaymentOut(BaseModel):
    method: Literal["wallet", "paystack"]
    status: Literal["pending", "success", "failed", "refund_pending", "refunded"]
    reference: str | None
    authorization_url: str | None = Field(default=None, description="Paystack checkout page, while pending")


class ShippingAddressOut(BaseModel):
    line1: str
    line2: str | None = None
    city: str
    state: str | None = None
    postal_code: str | None = None
    country: str
    phone: str | None = None


class OrderOut(BaseModel):
    id: uuid.UUID
    status: OrderStatusName
    items: list[OrderItemOut]
    subtotal: int = Field(description="Sum of the line totals, in the currency's minor unit")
    total: int = Field(description="What is charged: the subtotal (no shipping fees or taxes yet)")
    currency: str
    shipping_address: ShippingAddressOut
    payment: PaymentOut
    created_at: str
    updated_at: str


class OrderList(BaseModel):
    items: list[OrderOut]
    page: int
    per_page: int
    total: int
    pages: int
