"""The back-office home: panels that features add to."""

from flask_admin import expose

from shop.admin.security import StaffIndexView
from shop.catalog import services as catalog


class DashboardView(StaffIndexView):
    """Catalog size by category, products without lots, lots running low."""

    @expose("/")
    def index(self):
        """Render the dashboard's panels."""
        return self.render("admin/dashboard.html", catalog=catalog.catalog_health())
