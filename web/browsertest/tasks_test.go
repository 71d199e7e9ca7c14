package browsertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitAPI polls the API until ok returns true for the decoded answer.
func (s *server) waitAPI(t testing.TB, path string, what string, ok func(record) bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(c context.Context, _ *chromedp.Target) error {
		for {
			var v record
			if st := s.api(t, "GET", path, nil, &v); st == 200 && ok(v) {
				return nil
			}
			if err := waitCtx(c); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
	})
}

// TestRuleTaskAndNotificationLive: a deal is won; the fixture's rule gives
// its owner a task and a notification, which appear on the open screen
// without a reload; the task is completed and another one reassigned from
// the tasks screen; the notification is marked read, and the bell of the
// user's other tab goes out too; the global search opens a record from the
// keyboard.
func TestRuleTaskAndNotificationLive(t *testing.T) {
	s := startCRMWith(t, "testdata/pipeline.hcl")
	var me struct{ User record }
	s.mustAPI(t, "GET", "/api/v1/auth/me", nil, &me)
	adminID := me.User["id"].(string)
	var colleague record
	s.mustAPI(t, "POST", "/api/v1/users", map[string]string{"email": "gayane@example.com", "name": "Gayane Sargsyan",
		"role": "manager", "password": "colleague-password-1"}, &colleague)
	deal := s.newDeal(t, "Camry for Narek", "proposal", "1500000")

	b := browser(t)
	ctx := session(t, b)
	signIn(t, ctx, s)
	if !s.hasWebsocket(t) {
		t.Fatal("this build serves no /api/v1/ws")
	}
	run(t, ctx, "the tasks screen, empty, live",
		chromedp.Navigate(s.URL+"/tasks"),
		waitJS(`document.querySelector('#task-panel .empty')`),
		waitJS(`document.querySelector('.live-dot.on')`),
		waitJS(`document.querySelector('.bell') && !document.querySelector('.bell-count')`),
	)
	otherTab := session(t, b)
	signIn(t, otherTab, s)
	run(t, otherTab, "another tab of the same user, live",
		chromedp.Navigate(s.URL+"/tasks"),
		waitJS(`document.querySelector('.live-dot.on')`),
	)

	var taskID string
	t.Run("the rule's task and notification appear live", func(t *testing.T) {
		s.mustAPI(t, "PATCH", "/api/v1/records/deal/"+deal, map[string]string{"stage": "won"}, nil)
		run(t, ctx, "the task appears",
			waitJS(`[...document.querySelectorAll('.task .task-title')].some(a => a.textContent.includes('Send the invoice for Camry for Narek'))`),
			waitJS(`document.querySelector('.bell-count') && document.querySelector('.bell-count').textContent.trim() === '1'`),
		)
		run(t, otherTab, "the other tab's bell counts it too",
			waitJS(`document.querySelector('.bell-count') && document.querySelector('.bell-count').textContent.trim() === '1'`),
		)
		tasks := s.find(t, "task", "deal == '"+deal+"'")
		if len(tasks) != 1 || tasks[0]["assignee"] != adminID {
			t.Fatalf("the rule's tasks: %v", tasks)
		}
		taskID = tasks[0]["id"].(string)
		run(t, ctx, "the panel lists the notification",
			chromedp.Click(chromedp.CSS(`.bell`)),
			waitJS(`[...document.querySelectorAll('#notif-panel li.unread')].some(li => li.textContent.includes('Deal won') && li.textContent.includes('Camry for Narek was won'))`),
		)
		screenshot(t, ctx, "en-notifications")
		run(t, ctx, "mark all read",
			chromedp.Click(chromedp.CSS(`#notif-read-all`)),
			waitJS(`!document.querySelector('.bell-count') && !document.querySelector('#notif-panel li.unread')`),
			s.waitAPI(t, "/api/v1/notifications?unread=true", "no unread notification left", func(v record) bool { return v["unread"] == float64(0) }),
			chromedp.KeyEvent("\x1b"),
			waitJS(`!document.querySelector('#notif-panel')`),
		)
		run(t, otherTab, "the other tab's bell goes out, pushed over its socket",
			waitJS(`!document.querySelector('.bell-count')`),
		)
	})

	t.Run("complete a task", func(t *testing.T) {
		run(t, ctx, "tick it",
			chromedp.Click(chromedp.CSS(`.task[data-id="`+taskID+`"] .task-done`)),
			waitJS(`!document.querySelector('.task[data-id=`+jsString(taskID)+`]')`),
			s.waitAPI(t, "/api/v1/records/task/"+taskID, "the task is done", func(v record) bool { return v["done"] == true }),
		)
	})

	t.Run("reassign a task", func(t *testing.T) {
		var task record
		s.mustAPI(t, "POST", "/api/v1/records/task", map[string]any{"title": "Call Narek about the insurance",
			"assignee": adminID, "due": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)}, &task)
		id := task["id"].(string)
		run(t, ctx, "the task appears live, in the overdue tab too",
			waitJS(`!!document.querySelector('.task[data-id=`+jsString(id)+`]')`),
			chromedp.Click(chromedp.CSS(`#tab-overdue`)),
			waitJS(`!!document.querySelector('.task[data-id=`+jsString(id)+`] .overdue')`),
		)
		screenshot(t, ctx, "en-tasks")
		run(t, ctx, "give it to the colleague",
			waitJS(`[...document.querySelectorAll('#assign-`+id+` option')].some(o => o.value === `+jsString(colleague["id"].(string))+`)`),
			setSelect(`#assign-`+id, colleague["id"].(string)),
			waitJS(`!document.querySelector('.task[data-id=`+jsString(id)+`]')`),
			s.waitAPI(t, "/api/v1/records/task/"+id, "the task is the colleague's", func(v record) bool { return v["assignee"] == colleague["id"] }),
		)
	})

	t.Run("global search opens a record from the keyboard", func(t *testing.T) {
		var c record
		s.mustAPI(t, "POST", "/api/v1/records/contact", map[string]string{"name": "Narek Hakobyan", "email": "narek@example.com"}, &c)
		contact := c["id"].(string)
		run(t, ctx, "type, enter",
			chromedp.KeyEvent("/"),
			waitJS(`document.activeElement && document.activeElement.id === 'gsearch'`),
			chromedp.SendKeys(chromedp.CSS(`#gsearch`), "Hakobyan"),
			waitJS(`(() => { const li = document.querySelector('#gsearch-results li[data-id]');
				return li && li.dataset.id === `+jsString(contact)+` && li.getAttribute('aria-selected') === 'true'; })()`),
			chromedp.KeyEvent("\r"),
			waitJS(`location.pathname === `+jsString("/records/contact/"+contact)),
			waitJS(`document.querySelector('#f-name') && document.querySelector('#f-name').value === 'Narek Hakobyan'`),
		)
	})
}
