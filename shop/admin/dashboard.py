"""The back-office home: panels that features add to."""

from flask_admin import expose
from flask_login import current_user

from shop.admin.charts import bar_chart, line_chart
from shop.admin.security import StaffIndexView
from shop.alerts import stats as alerts
from shop.catalog import services as catalog
from shop.inquiries import stats as inquiries
from shop.inquiries.models import STATUSES as INQUIRY_STATUSES
from shop.mail.services import counts_by_status as outbox_counts
from shop.payments import stats as orders
from shop.subscriptions import stats as subscribers


class DashboardView(StaffIndexView):
    """Inquiries; catalog size by category, products without lots, lots running low; the donors researchers wait
    for; subscribers, revenue and the outbox, for who may."""

    @expose("/")
    def index(self):
        """Render the dashboard's panels (each only for staff whose role may see what it shows)."""
        panels = {}
        if current_user.can("inquiries.work"):
            panels["inquiries"] = {
                "chart": bar_chart(inquiries.per_week(12)),
                "by_status": inquiries.counts_by_status(),
                "statuses": INQUIRY_STATUSES,
                "top_products": inquiries.top_products(),
            }
        if current_user.can("subscribers.view"):
            panels["subscribers"] = {
                "chart": line_chart(subscribers.active_per_day(90)),
                "by_status": subscribers.counts_by_status(),
                "by_topic": subscribers.counts_by_topic(),
            }
        if current_user.can("orders.view"):
            weeks = orders.revenue_per_week(12)
            panels["revenue"] = bar_chart([(monday, cents // 100) for monday, cents in weeks])
        if current_user.can("mail.view"):
            panels["outbox"] = outbox_counts()
        if current_user.can("alerts.view"):
            panels["alerts"] = {"most_awaited": alerts.most_awaited(5), "by_status": alerts.counts_by_status()}
        return self.render("admin/dashboard.html", catalog=catalog.catalog_health(), **panels)
