"""The pages in a real browser (headless Chromium) against the real server: reading, filing, deciding."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from browserkit import screenshot
from lifecycle import commands as c, handlers
from pagekit import PASSWORD


def wait(driver, condition, timeout: float = 10):
    return WebDriverWait(driver, timeout).until(condition)


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait(driver, EC.presence_of_element_located((By.TAG_NAME, "h1")))


def log_in(driver, email: str) -> None:
    """Fill the login form the redirect led to, and send it."""
    wait(driver, EC.presence_of_element_located((By.ID, "email")))
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait(driver, lambda d: "/login" not in d.current_url)


def test_the_public_goes_from_the_list_to_a_member_page_and_switches_language(driver, site):
    world, server = site
    open_page(driver, server.base_url + "/members")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    # Keyboard first: the first Tab reaches the skip link, which is then visible.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.get_attribute("class") == "skip-link" and active.is_displayed()
    Select(driver.find_element(By.ID, "filter-country")).select_by_visible_text("France")
    driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait(driver, EC.url_contains("country=France"))
    names = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "table.members th[scope=row] a")]
    assert names == ["Lyon", "Riverton"]
    screenshot(driver, "public-members-list")
    driver.find_element(By.LINK_TEXT, "Riverton").click()
    wait(driver, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Riverton"))
    assert "implementing" in driver.find_element(By.ID, "member-state").text
    assert "The budget was voted late." in driver.page_source
    screenshot(driver, "public-member-page")
    driver.find_element(By.CSS_SELECTOR, "nav.languages a[lang=fr]").click()
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr")
    assert "mise en œuvre" in driver.find_element(By.ID, "member-state").text
    screenshot(driver, "public-member-page-fr")
    # The choice is remembered: the list now comes in French without ?lang=.
    open_page(driver, server.base_url + "/members")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Membres d’OGP Local"


def test_a_poc_logs_in_files_a_tracker_update_and_sees_it_on_the_public_page(driver, site):
    world, server = site
    rid = world.members["riverton"]
    open_page(driver, server.base_url + "/poc")
    assert "/login" in driver.current_url
    log_in(driver, world.people["poc-a"])
    assert driver.current_url.endswith("/poc")
    driver.find_element(By.LINK_TEXT, "Riverton").click()
    wait(driver, EC.presence_of_element_located((By.LINK_TEXT, "File a quarterly tracker update"))).click()
    wait(driver, EC.presence_of_element_located((By.ID, "narrative")))
    third = world.milestones("riverton")[2]
    Select(driver.find_element(By.ID, f"status-{third}")).select_by_value("in_progress")
    driver.find_element(By.ID, "narrative").send_keys("Public hearings held in all four districts.")
    driver.find_element(By.ID, "evidence").send_keys("https://city.example/hearings.pdf")
    screenshot(driver, "poc-tracker-form")
    driver.find_element(By.ID, "file-update").click()
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
    assert "filed and public" in driver.find_element(By.CSS_SELECTOR, "p.notice").text
    # Logged out, as the public.
    driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait(driver, EC.presence_of_element_located((By.LINK_TEXT, "Log in")))
    open_page(driver, f"{server.base_url}/members/{rid}")
    assert "Public hearings held in all four districts." in driver.page_source
    assert driver.find_elements(By.CSS_SELECTOR, "a[href='https://city.example/hearings.pdf']")
    screenshot(driver, "public-member-page-after-update")


def _support_unit_approves_voluntary_inactivity(driver, world, server, label: str) -> None:
    rid = world.members["riverton"]
    request_id = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=rid, reason="Municipal restructuring until the budget is adopted", stakeholders_consulted=True,
        actor=world.people["poc-a"]))
    open_page(driver, f"{server.base_url}/members/{rid}")
    assert "implementing" in driver.find_element(By.ID, "member-state").text
    open_page(driver, server.base_url + "/dashboard")
    log_in(driver, world.people["su"])
    assert driver.current_url.endswith("/dashboard")
    screenshot(driver, f"dashboard-{label}")
    driver.find_element(By.ID, f"approve-request-{request_id}").click()
    wait(driver, EC.presence_of_element_located((By.ID, "confirm-action")))
    assert "Municipal restructuring" in driver.page_source
    screenshot(driver, f"dashboard-confirm-approval-{label}")
    driver.find_element(By.ID, "reason").send_keys("Agreed with the stakeholders' forum")
    driver.find_element(By.ID, "confirm-action").click()
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
    assert "inactive" in driver.find_element(By.ID, "member-state").text
    open_page(driver, f"{server.base_url}/members/{rid}")
    status = driver.find_element(By.ID, "member-state").text
    assert "inactive" in status and "voluntary inactivity" in status
    history = driver.find_element(By.CSS_SELECTOR, "table.history tbody tr").text
    assert "R5.5" in history
    screenshot(driver, f"public-member-inactive-{label}")


def test_the_support_unit_approves_voluntary_inactivity_and_the_public_status_changes(driver, site):
    world, server = site
    _support_unit_approves_voluntary_inactivity(driver, world, server, "sqlite")


def test_the_same_approval_on_postgresql(driver, pg_site):
    world, server = pg_site
    _support_unit_approves_voluntary_inactivity(driver, world, server, "postgresql")
